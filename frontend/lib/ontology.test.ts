import { describe, expect, it } from "vitest";

import {
  buildAttribute,
  changeLabel,
  deriveKey,
  describeAttribute,
  flattenLabels,
  migrateLabelTools,
  moveLabel,
  nextColor,
  normaliseLabelTools,
  PALETTE,
  pickLabelTools,
  removeLabel,
  renameInScopes,
  renamedPath,
  renameTag,
  sameLabelTools,
  siblingPosition,
  tagProblem,
  TOOLS,
  toolsFor,
  type AttributeDraft,
  type LabelNode,
  type Tool,
} from "./ontology";

function node(tag: string, color: string, hotkey: string | null, children: LabelNode[] = []): LabelNode {
  return {
    value: { tag, displayLabel: tag, color, attributes: [], displayData: hotkey ? { hotkey } : {}, hotkey, icon: null },
    children,
  };
}

const tree = (): LabelNode[] => [
  node("vehicle", "#1f77b4", "1", [node("car", "#ff7f0e", "2"), node("bus", "#2ca02c", "3")]),
  node("person", "#d62728", "4"),
];

const draft = (changes: Partial<AttributeDraft> = {}): AttributeDraft => ({
  key: "",
  title: "Colour",
  type: "options",
  multi: false,
  mandatory: false,
  values: "red\n blue \n\n",
  min: "",
  max: "",
  step: "1",
  allLabels: true,
  scope: [],
  ...changes,
});

describe("label trees", () => {
  it("flattens in tree order with full tags, depths and counts", () => {
    const flat = flattenLabels(tree());
    expect(flat.map((label) => [label.path, label.depth, label.childCount])).toEqual([
      ["vehicle", 0, 2],
      ["vehicle.car", 1, 0],
      ["vehicle.bus", 1, 0],
      ["person", 0, 0],
    ]);
  });

  it("removes a label with everything under it, without touching the input", () => {
    const roots = tree();
    expect(flattenLabels(removeLabel(roots, "vehicle")).map((l) => l.path)).toEqual(["person"]);
    expect(flattenLabels(removeLabel(roots, "vehicle.car")).map((l) => l.path)).toEqual(["vehicle", "vehicle.bus", "person"]);
    expect(flattenLabels(roots)).toHaveLength(4);
    expect(flattenLabels(removeLabel(roots, "nothing.here"))).toHaveLength(4);
  });

  it("moves a label among its siblings, clamped at the ends", () => {
    const roots = tree();
    expect(flattenLabels(moveLabel(roots, "vehicle.bus", -1)).map((l) => l.path)).toEqual([
      "vehicle",
      "vehicle.bus",
      "vehicle.car",
      "person",
    ]);
    expect(flattenLabels(moveLabel(roots, "person", 1)).map((l) => l.path)).toEqual(flattenLabels(roots).map((l) => l.path));
    expect(siblingPosition(roots, "vehicle.car")).toEqual({ first: true, last: false });
    expect(siblingPosition(roots, "person")).toEqual({ first: false, last: true });
  });

  it("changes a label's value and mirrors the hotkey into displayData", () => {
    const changed = changeLabel(tree(), "vehicle.car", { tag: "auto", color: "#000000", hotkey: "z" });
    const car = flattenLabels(changed).find((label) => label.path === "vehicle.auto")!;
    expect(car.value).toMatchObject({ tag: "auto", color: "#000000", hotkey: "z", displayData: { hotkey: "z" } });
  });

  it("renames paths and everything under them", () => {
    expect(renamedPath("vehicle.car", "auto")).toBe("vehicle.auto");
    expect(renamedPath("person", "human")).toBe("human");
    expect(renameTag("vehicle.car", "vehicle", "thing")).toBe("thing.car");
    expect(renameTag("vehicles", "vehicle", "thing")).toBe("vehicles");
  });

  it("offers the first palette colour no label uses", () => {
    expect(nextColor([])).toBe(PALETTE[0]);
    expect(nextColor(tree())).toBe(PALETTE[4]);
  });

  it("finds the tags the server would refuse", () => {
    expect(tagProblem("  ")).toMatch(/needs a tag/);
    expect(tagProblem(".car")).toMatch(/dot/);
    expect(tagProblem("a..b")).toMatch(/empty parts/);
    expect(tagProblem("vehicle.car")).toBeNull();
  });
});

describe("attributes", () => {
  it("derives keys from titles", () => {
    expect(deriveKey("Is occluded?")).toBe("is_occluded");
    expect(deriveKey("Café colour")).toBe("cafe_colour");
    expect(deriveKey("!!!")).toBe("");
  });

  it("builds an options attribute from the form", () => {
    expect(buildAttribute(draft({ multi: true, mandatory: true }))).toEqual({
      ok: true,
      attribute: { key: "colour", title: "Colour", type: "options", scope: ["*"], optional: false, values: ["red", "blue"], multi: true },
    });
  });

  it("builds a range with numbers and a scope of chosen labels", () => {
    const built = buildAttribute(draft({ title: "Speed", type: "range", min: "0", max: "120", step: "", allLabels: false, scope: ["vehicle.car"] }));
    expect(built).toEqual({
      ok: true,
      attribute: { key: "speed", title: "Speed", type: "range", scope: ["vehicle.car"], optional: true, range: { min: 0, max: 120, step: 1 } },
    });
  });

  it("says what is missing", () => {
    expect(buildAttribute(draft({ title: "" }))).toMatchObject({ ok: false });
    expect(buildAttribute(draft({ values: "\n" }))).toMatchObject({ ok: false, error: expect.stringMatching(/value/) });
    expect(buildAttribute(draft({ type: "range", min: "a", max: "3" }))).toMatchObject({ ok: false });
    expect(buildAttribute(draft({ allLabels: false, scope: [] }))).toMatchObject({ ok: false, error: expect.stringMatching(/labels/) });
    expect(buildAttribute(draft({ type: "boolean", title: "Occluded" }))).toMatchObject({ ok: true, attribute: { key: "occluded" } });
  });

  it("describes each type in a line", () => {
    const base = { key: "k", title: "K", scope: ["*"], optional: true };
    expect(describeAttribute({ ...base, type: "options", values: ["a", "b"], multi: false })).toBe("One of: a, b");
    expect(describeAttribute({ ...base, type: "options", values: ["a"], multi: true })).toBe("Any of: a");
    expect(describeAttribute({ ...base, type: "range", range: { min: 0, max: 5, step: 0.5 } })).toBe("0 to 5, step 0.5");
  });

  it("moves scopes with a renamed label", () => {
    const attributes = [{ key: "k", title: "K", type: "boolean" as const, scope: ["vehicle.car", "person"], optional: true }];
    expect(renameInScopes(attributes, "vehicle", "thing")[0].scope).toEqual(["thing.car", "person"]);
  });
});

describe("tools per label", () => {
  it("gives every tool to a label the recipe does not list", () => {
    expect([...toolsFor({}, "car")]).toEqual([...TOOLS]);
    expect([...toolsFor({ car: ["point", "box"] }, "car")]).toEqual(["box", "point"]);
  });

  it("sends only limited labels, in tool order", () => {
    const choices = new Map<string, Set<Tool>>([
      ["car", new Set<Tool>(["point", "box"])],
      ["person", new Set<Tool>(TOOLS)],
      ["gone", new Set<Tool>(["box"])],
    ]);
    expect(normaliseLabelTools(choices, ["car", "person"])).toEqual({ car: ["box", "point"] });
  });

  it("drops the entries of deleted labels and moves renamed ones", () => {
    const stored = { "vehicle.car": ["box"], old: ["point"] };
    const before = ["vehicle", "vehicle.car", "old"];
    expect(migrateLabelTools(stored, before, ["vehicle", "vehicle.car"])).toEqual({ "vehicle.car": ["box"] });
    expect(migrateLabelTools(stored, before, ["thing", "thing.car", "old"], { from: "vehicle", to: "thing" })).toEqual({
      "thing.car": ["box"],
      old: ["point"],
    });
  });

  it("leaves alone the entries of labels from the recipe's other ontologies", () => {
    const stored = { car: ["box"], "other.label": ["point"] };
    expect(migrateLabelTools(stored, ["car"], [])).toEqual({ "other.label": ["point"] });
    expect(pickLabelTools(stored, ["car"])).toEqual({ car: ["box"] });
    expect(pickLabelTools(stored, ["car"], false)).toEqual({ "other.label": ["point"] });
  });

  it("compares label tools as sets", () => {
    expect(sameLabelTools({ a: ["box", "point"] }, { a: ["point", "box"] })).toBe(true);
    expect(sameLabelTools({ a: ["box"] }, { a: ["box"], b: [] })).toBe(false);
    expect(sameLabelTools({ a: ["box"] }, { b: ["box"] })).toBe(false);
  });
});
