import { describe, expect, it } from "vitest";

import { coalesced } from "./coalesce";

describe("coalesced", () => {
  it("runs once more after a burst of calls, never two loads at once", async () => {
    let active = 0;
    let most = 0;
    let loads = 0;
    const releases: Array<() => void> = [];
    const refresh = coalesced(async () => {
      loads += 1;
      active += 1;
      most = Math.max(most, active);
      await new Promise<void>((resolve) => releases.push(resolve));
      active -= 1;
    });

    refresh();
    refresh();
    refresh();
    expect(loads).toBe(1);
    releases.shift()!();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(loads).toBe(2);
    releases.shift()!();
    await new Promise((resolve) => setTimeout(resolve, 0));

    expect(loads).toBe(2);
    expect(most).toBe(1);
  });
});
