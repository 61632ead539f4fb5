import { describe, expect, it } from "vitest";

import { readCookie } from "./api";

describe("readCookie", () => {
  it("finds a cookie among others and decodes it", () => {
    expect(readCookie("csrftoken", "sessionid=abc; csrftoken=x%2By; theme=dark")).toBe("x+y");
  });

  it("keeps '=' inside values and returns null when absent", () => {
    expect(readCookie("a", "a=b=c")).toBe("b=c");
    expect(readCookie("missing", "a=1")).toBeNull();
  });
});
