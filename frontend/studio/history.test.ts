import { describe, expect, it } from "vitest";
import { changedParts, subjectName as name, restorable, type Change } from "./history";

const box = (label: string, x: number, extra: Record<string, unknown> = {}) => ({
  type: "box" as const,
  label,
  coordinates: [{ x, y: 0 }, { x: x + 10, y: 10 }],
  metadata: { system: { attributes: {}, status: null }, user: {} },
  description: null,
  ...extra,
});

const change = (id: number, annotationId: string, action: Change["action"]): Change => ({
  id,
  annotationId,
  action,
  version: 1,
  before: null,
  after: null,
  actor: "ann@example.com",
  at: "2026-11-28T01:00:00.000Z",
});

describe("changedParts", () => {
  it("names each part an update changed", () => {
    const before = box("car", 0);
    const after = box("bus", 5, { metadata: { system: { attributes: { color: "red" }, status: "issue" }, user: {} } });
    expect(changedParts(before, after)).toEqual(["relabelled car → bus", "moved or reshaped", "attributes", "status: issue"]);
  });

  it("says a mask was repainted and a note's thread grew, not that they moved", () => {
    expect(changedParts({ ...box("road", 0), type: "binary" }, { ...box("road", 1), type: "binary" })).toEqual(["repainted"]);
    expect(changedParts({ ...box("note", 0), type: "note" }, { ...box("note", 1), type: "note" })).toEqual(["thread"]);
  });

  it("says a status was cleared, and nothing for a creation or deletion", () => {
    const flagged = box("car", 0, { metadata: { system: { attributes: {}, status: "approved" }, user: {} } });
    expect(changedParts(flagged, box("car", 0))).toEqual(["status cleared"]);
    expect(changedParts(null, box("car", 0))).toEqual([]);
    expect(changedParts(box("car", 0), null)).toEqual([]);
  });
});

describe("restorable", () => {
  it("offers the newest deletion of each object that is not on the item now", () => {
    const changes = [change(6, "a", "deleted"), change(5, "b", "restored"), change(4, "b", "deleted"), change(3, "c", "deleted"), change(2, "a", "created")];
    expect([...restorable(changes, (id) => id === "c")]).toEqual([6]);
  });

  it("offers nothing once an object was restored, or while it is on the item", () => {
    expect(restorable([change(2, "a", "restored"), change(1, "a", "deleted")], () => false).size).toBe(0);
    expect(restorable([change(1, "a", "deleted")], () => true).size).toBe(0);
  });
});

describe("names", () => {
  it("names an object by its label's name and type, and a note by what it is", () => {
    const labelName = (tag: string) => (tag === "car" ? "Car" : tag);
    expect(name(box("car", 0), labelName)).toBe("Car box");
    expect(name({ ...box("note", 0), type: "note", metadata: { system: { parentId: "a1" } } }, labelName)).toBe("review note");
    expect(name({ ...box("note", 0), type: "note" }, labelName)).toBe("note pin");
    expect(name(null, labelName)).toBe("an object");
  });
});
