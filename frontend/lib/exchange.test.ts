import { describe, expect, it } from "vitest";

import {
  FORMATS,
  buildExportBody,
  exportContents,
  formatTitle,
  isExportOf,
  progressText,
  progressValue,
  readReport,
  rejectedShown,
  reportCounts,
  shownFilter,
  upsertExport,
} from "./exchange";

const choices = { format: "coco", scope: "all" as const, filter: null, annotations: null, taskId: "", status: "", includeImages: false };

describe("formats", () => {
  it("lists the five formats the API takes, by title", () => {
    expect(FORMATS.map((f) => f.value)).toEqual(["dataloop", "coco", "yolo", "voc", "masks"]);
    expect(formatTitle("voc")).toBe("Pascal VOC");
    expect(formatTitle("masks")).toBe("Semantic PNG masks");
    expect(formatTitle("other")).toBe("other");
  });
});

describe("shownFilter", () => {
  it("joins the open folder and the applied filter", () => {
    expect(shownFilter("/", null)).toBeNull();
    expect(shownFilter("/train", null)).toEqual({ filename: "/train/**" });
    expect(shownFilter("/", { name: "*.jpg" })).toEqual({ name: "*.jpg" });
    expect(shownFilter("/a/b", { name: "*.jpg" })).toEqual({ $and: [{ filename: "/a/b/**" }, { name: "*.jpg" }] });
  });
});

describe("buildExportBody", () => {
  it("sends only the format for a plain export", () => {
    expect(buildExportBody(choices)).toEqual({ ok: true, body: { format: "coco" } });
  });

  it("adds the filter, the task status and the images when chosen", () => {
    const built = buildExportBody({
      ...choices,
      scope: "filter",
      filter: { "metadata.user.split": "train" },
      taskId: "t1",
      status: " approved ",
      includeImages: true,
    });
    expect(built).toEqual({
      ok: true,
      body: {
        format: "coco",
        itemsQuery: { filter: { "metadata.user.split": "train" } },
        taskStatus: { taskId: "t1", status: "approved" },
        includeImages: true,
      },
    });
  });

  it("sends the annotation filter as dtlpy's join, with or without an item filter", () => {
    const join = { on: { resource: "annotations", local: "itemId", forigen: "id" }, filter: { label: "car" } };
    expect(buildExportBody({ ...choices, scope: "filter", annotations: { label: "car" } })).toEqual({
      ok: true,
      body: { format: "coco", itemsQuery: { filter: {}, join } },
    });
    const both = buildExportBody({ ...choices, scope: "filter", filter: { name: "*.jpg" }, annotations: { label: "car" } });
    expect(both.ok && both.body.itemsQuery).toEqual({ filter: { name: "*.jpg" }, join });
  });

  it("ignores the filter when all items are asked for", () => {
    const built = buildExportBody({ ...choices, filter: { name: "x" } });
    expect(built.ok && built.body.itemsQuery).toBeUndefined();
  });

  it("says what is missing", () => {
    expect(buildExportBody({ ...choices, format: "png" })).toEqual({ ok: false, error: "Choose a format." });
    expect(buildExportBody({ ...choices, scope: "filter" })).toMatchObject({ ok: false, error: /No filter is applied/ });
    expect(buildExportBody({ ...choices, taskId: "t1", status: "  " })).toMatchObject({ ok: false, error: /task status/ });
  });
});

describe("progress", () => {
  it("describes each state of a command", () => {
    expect(progressText({ status: "created", progress: 0, error: null }, "Exporting")).toBe("Queued…");
    expect(progressText({ status: "in-progress", progress: 40, error: null }, "Exporting")).toBe("Exporting · 40%");
    expect(progressText({ status: "success", progress: 99, error: null }, "Exporting")).toBe("Done.");
    expect(progressText({ status: "failed", progress: 10, error: "disk full" }, "Exporting")).toBe("Failed: disk full");
    expect(progressText({ status: "failed", progress: 10, error: null }, "Importing")).toBe("Failed: unknown error");
  });

  it("fills the bar on success", () => {
    expect(progressValue({ status: "success", progress: 99 })).toBe(100);
    expect(progressValue({ status: "in-progress", progress: 42 })).toBe(42);
    expect(progressValue({ status: "in-progress", progress: 140 })).toBe(100);
  });
});

describe("the import report", () => {
  const spec = {
    report: {
      itemsCreated: 2,
      itemsMatched: 1,
      annotationsImported: 7,
      labelsAdded: ["car", "person"],
      skipped: [{ entry: "json/a.json", reason: "no item '/a.png' in the dataset" }],
      skippedCount: 1,
      rejected: Array.from({ length: 60 }, (_, i) => ({ entry: `json/${i}.json`, reason: "bad box" })),
      rejectedCount: 75,
    },
  };

  it("reads the counts in the dialog's order", () => {
    const report = readReport(spec)!;
    expect(reportCounts(report)).toEqual([
      ["Items created", 2],
      ["Items matched", 1],
      ["Annotations imported", 7],
      ["Labels added", 2],
      ["Skipped", 1],
    ]);
    expect(report.labelsAdded).toEqual(["car", "person"]);
  });

  it("shows 50 rejected entries and counts the rest from the total", () => {
    const { shown, more } = rejectedShown(readReport(spec)!);
    expect(shown).toHaveLength(50);
    expect(shown[0]).toEqual({ entry: "json/0.json", reason: "bad box" });
    expect(more).toBe(25);
  });

  it("copes with a missing or odd report", () => {
    expect(readReport({})).toBeNull();
    const odd = readReport({ report: { rejected: [{ entry: 3 }, "x"], itemsCreated: "2" } })!;
    expect(odd.rejected).toEqual([{ entry: "3", reason: "" }]);
    expect(odd.rejectedCount).toBe(1);
    expect(odd.itemsCreated).toBe(0);
  });
});

describe("downloads", () => {
  const command = (id: string, status: string, progress: number) => ({ id, status, progress });

  it("keeps exports newest first and replaces older states", () => {
    let list = upsertExport([], command("a1", "in-progress", 10));
    list = upsertExport(list, command("b2", "created", 0));
    list = upsertExport(list, command("a1", "in-progress", 50));
    expect(list).toEqual([command("b2", "created", 0), command("a1", "in-progress", 50)]);
  });

  it("never lets a late event undo progress or a finish", () => {
    let list = upsertExport([], command("a1", "success", 100));
    list = upsertExport(list, command("a1", "in-progress", 60));
    expect(list).toEqual([command("a1", "success", 100)]);
    list = upsertExport([command("b2", "in-progress", 60)], command("b2", "in-progress", 30));
    expect(list).toEqual([command("b2", "in-progress", 60)]);
    list = upsertExport(list, command("b2", "failed", 30));
    expect(list).toEqual([command("b2", "failed", 30)]);
  });

  it("knows this dataset's exports and describes their contents", () => {
    expect(isExportOf({ type: "dataset.export", spec: { datasetId: "d1" } }, "d1")).toBe(true);
    expect(isExportOf({ type: "dataset.export", spec: { datasetId: "d2" } }, "d1")).toBe(false);
    expect(isExportOf({ type: "dataset.import", spec: { datasetId: "d1" } }, "d1")).toBe(false);
    expect(exportContents({ itemsCount: 1, annotationsCount: 3 })).toBe("1 item · 3 annotations");
    expect(exportContents({ itemsCount: 4, annotationsCount: 1, includeImages: true })).toBe("4 items · 1 annotation · images");
    expect(exportContents({ format: "coco" })).toBe("");
  });
});
