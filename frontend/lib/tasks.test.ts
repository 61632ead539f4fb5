import { describe, expect, it } from "vitest";

import { describeDue, doneCount, equalLoads, statusOrder, studioUrl } from "./tasks";

describe("equalLoads", () => {
  it("splits 100 into whole percents that sum to 100", () => {
    expect(equalLoads(1)).toEqual([100]);
    expect(equalLoads(3)).toEqual([34, 33, 33]);
    expect(equalLoads(7).reduce((a, b) => a + b, 0)).toBe(100);
    expect(equalLoads(0)).toEqual([]);
  });
});

describe("describeDue", () => {
  const now = new Date(2025, 5, 10, 12).getTime();
  it("counts calendar days", () => {
    expect(describeDue(new Date(2025, 5, 10, 18).getTime(), now)).toEqual({ text: "Due today", overdue: false });
    expect(describeDue(new Date(2025, 5, 11, 1).getTime(), now).text).toBe("Due tomorrow");
    expect(describeDue(new Date(2025, 5, 13).getTime(), now).text).toBe("Due in 3 days");
    expect(describeDue(new Date(2025, 5, 9).getTime(), now)).toEqual({ text: "Overdue by 1 day", overdue: true });
    expect(describeDue(null, now)).toEqual({ text: "No due date", overdue: false });
  });
});

describe("doneCount and statusOrder", () => {
  it("counts finished items but not parked issues", () => {
    expect(doneCount({ itemStatus: { completed: 3, discard: 1, issue: 2 } })).toBe(4);
  });
  it("lists the task's actions first", () => {
    const task = { availableActions: [{ action: "completed", displayName: "Complete", color: "" }], itemStatus: { zeta: 1, completed: 2, alpha: 1 } };
    expect(statusOrder(task)).toEqual(["completed", "alpha", "zeta"]);
  });
  it("builds studio links", () => {
    expect(studioUrl("abc", "t1")).toBe("/studio/abc?task=t1");
  });
});

describe("statusName", () => {
  it("names counts by the state, custom statuses by their button", async () => {
    const { statusName } = await import("./tasks");
    const task = { availableActions: [{ action: "completed", displayName: "Complete", color: "" }, { action: "skip", displayName: "Skip it", color: "" }] };
    expect(statusName(task, "completed")).toBe("Completed");
    expect(statusName(task, "discard")).toBe("Discarded");
    expect(statusName(task, "skip")).toBe("Skip it");
    expect(statusName(task, "issue")).toBe("Sent back");
  });
});
