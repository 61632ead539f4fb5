import { describe, expect, it } from "vitest";

import { buildItemQuery, formatBytes, parseDql } from "./dql";

describe("parseDql", () => {
  it("accepts an object and an empty box", () => {
    expect(parseDql('{"metadata.user.split": "train"}')).toEqual({ ok: true, filter: { "metadata.user.split": "train" } });
    expect(parseDql("   ")).toEqual({ ok: true, filter: null });
  });

  it("explains what is wrong", () => {
    expect(parseDql("{nope")).toMatchObject({ ok: false });
    expect(parseDql("[1]")).toEqual({ ok: false, error: "The filter must be a JSON object." });
    expect(parseDql("[1]", "The annotation filter")).toEqual({ ok: false, error: "The annotation filter must be a JSON object." });
    expect(parseDql("{nope", "The annotation filter", '{"label": "car"}')).toEqual({ ok: false, error: 'The annotation filter must be JSON, e.g. {"label": "car"}.' });
  });
});

describe("buildItemQuery", () => {
  it("pages by id after the last item and scopes to the folder", () => {
    const query = buildItemQuery({ folder: "/train", filter: { a: 1 }, afterId: "abc", pageSize: 100 });
    expect(query.filter.$and).toEqual([
      { hidden: false },
      { type: "file" },
      { filename: "/train/**" },
      { a: 1 },
      { id: { $gt: "abc" } },
    ]);
    expect(query.sort).toEqual({ id: "ascending" });
  });

  it("joins the annotations when an annotation filter is given, and not otherwise", () => {
    const query = buildItemQuery({ folder: "/", filter: null, annotations: { "metadata.system.status": "issue" }, afterId: null, pageSize: 10 });
    expect(query.join).toEqual({ on: { resource: "annotations", local: "itemId", forigen: "id" }, filter: { "metadata.system.status": "issue" } });
    expect("join" in buildItemQuery({ folder: "/", filter: null, annotations: null, afterId: null, pageSize: 10 })).toBe(false);
  });

  it("adds no folder filter at the root", () => {
    const query = buildItemQuery({ folder: "/", filter: null, afterId: null, pageSize: 10 });
    expect(query.filter.$and).toEqual([{ hidden: false }, { type: "file" }]);
  });
});

describe("formatBytes", () => {
  it("picks a readable unit", () => {
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(2048)).toBe("2.0 KB");
    expect(formatBytes(5 * 1024 * 1024)).toBe("5.0 MB");
  });
});
