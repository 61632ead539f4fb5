import { describe, expect, it } from "vitest";

import { backoffDelay, parseServerMessage, socketUrl } from "./events";

describe("parseServerMessage", () => {
  it("accepts the server's message types", () => {
    const message = parseServerMessage('{"type":"event","event":"member.added","group":"project.a","data":{"id":"u"}}');
    expect(message).toEqual({ type: "event", event: "member.added", group: "project.a", data: { id: "u" } });
  });

  it("rejects malformed frames and unknown types", () => {
    expect(parseServerMessage("not json")).toBeNull();
    expect(parseServerMessage("[1,2]")).toBeNull();
    expect(parseServerMessage('{"type":"surprise"}')).toBeNull();
    expect(parseServerMessage("null")).toBeNull();
  });
});

describe("backoffDelay", () => {
  it("doubles per attempt between half and all of the ceiling", () => {
    expect(backoffDelay(0, 500, 15_000, () => 0)).toBe(250);
    expect(backoffDelay(0, 500, 15_000, () => 1)).toBe(500);
    expect(backoffDelay(3, 500, 15_000, () => 1)).toBe(4000);
  });

  it("never exceeds the cap", () => {
    expect(backoffDelay(50, 500, 15_000, () => 1)).toBe(15_000);
  });
});

describe("socketUrl", () => {
  it("follows the page's scheme", () => {
    expect(socketUrl({ protocol: "http:", host: "127.0.0.1:8000" })).toBe("ws://127.0.0.1:8000/ws/");
    expect(socketUrl({ protocol: "https:", host: "annotate.example" })).toBe("wss://annotate.example/ws/");
  });
});
