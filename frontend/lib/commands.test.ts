import { describe, expect, it } from "vitest";

import { isFinished } from "./commands";

describe("isFinished", () => {
  it("knows dtlpy's terminal statuses", () => {
    for (const status of ["success", "failed", "aborted", "timeout", "canceled"]) expect(isFinished({ status })).toBe(true);
    for (const status of ["created", "in-progress"]) expect(isFinished({ status })).toBe(false);
  });
});
