/**
 * The ontology and recipe shapes the editor works on, and the pure edits it makes to them
 * before sending: label trees (Dataloop's `roots`), attribute definitions (v2) and the
 * tools allowed per label. The server validates everything again; these only prepare.
 */

export interface LabelValue {
  tag: string;
  displayLabel: string;
  color: string;
  attributes: string[];
  displayData: Record<string, unknown>;
  hotkey: string | null;
  icon: string | null;
}
export interface LabelNode {
  value: LabelValue;
  children: LabelNode[];
}

export type AttributeType = "options" | "boolean" | "freeText" | "range";
export interface Attribute {
  key: string;
  title: string;
  type: AttributeType;
  scope: string[];
  optional: boolean;
  values?: string[];
  multi?: boolean;
  range?: { min: number; max: number; step: number };
}

export interface Ontology {
  id: string;
  title: string;
  roots: LabelNode[];
  attributes: Attribute[];
}

export const TOOLS = ["box", "segment", "polyline", "binary", "point", "ellipse", "class", "note"] as const;
export type Tool = (typeof TOOLS)[number];
export type LabelTools = Record<string, string[]>;

export interface Recipe {
  id: string;
  title: string;
  projectIds: string[];
  ontologyIds: string[];
  instructions: string;
  labelTools: LabelTools;
}

/** What people call each tool; the API names are Dataloop's annotation types. */
export const TOOL_NAMES: Record<Tool, string> = {
  box: "Box",
  segment: "Polygon",
  polyline: "Polyline",
  binary: "Mask",
  point: "Point",
  ellipse: "Ellipse",
  class: "Classification",
  note: "Note",
};
/** Column headings, where the full name would not fit. */
export const TOOL_SHORT_NAMES: Record<Tool, string> = { ...TOOL_NAMES, class: "Class" };

export const ALL_LABELS = "*";

export const ATTRIBUTE_TYPE_NAMES: Record<AttributeType, string> = {
  options: "Options",
  boolean: "Yes / no",
  freeText: "Free text",
  range: "Number range",
};

// The server hands out these first (annotator/ontologies/labels.py), so a colour offered for
// a new label is the one it would have chosen.
export const PALETTE = [
  "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
  "#bcbd22", "#17becf", "#f3c300", "#875692", "#f38400", "#a1caf1", "#be0032", "#c2b280",
  "#008856", "#e68fac", "#0067a5", "#f99379", "#604e97", "#f6a600", "#b3446c", "#dcd300",
];

// --- labels --------------------------------------------------------------------------------------
export interface FlatLabel {
  /** The full dotted tag, which annotations, scopes and label tools name. */
  path: string;
  value: LabelValue;
  depth: number;
  childCount: number;
}

export function joinTag(parent: string, tag: string): string {
  return parent ? `${parent}.${tag}` : tag;
}

/** Every label in tree order (depth first), with its full tag. */
export function flattenLabels(roots: LabelNode[]): FlatLabel[] {
  const out: FlatLabel[] = [];
  const visit = (nodes: LabelNode[], parent: string, depth: number) => {
    for (const node of nodes) {
      const path = joinTag(parent, node.value.tag);
      out.push({ path, value: node.value, depth, childCount: countLabels(node.children) });
      visit(node.children, path, depth + 1);
    }
  };
  visit(roots, "", 0);
  return out;
}

export function countLabels(nodes: LabelNode[]): number {
  return nodes.reduce((sum, node) => sum + 1 + countLabels(node.children), 0);
}

/** A deep copy, so that an edit that fails on the server leaves the page's tree as it was. */
export function cloneRoots(roots: LabelNode[]): LabelNode[] {
  return structuredClone(roots);
}

/** The sibling list holding `path` and its index there, in `roots` (which is changed in place by callers). */
function locate(roots: LabelNode[], path: string): { siblings: LabelNode[]; index: number } | null {
  const segments = path.split(".");
  let siblings = roots;
  for (let depth = 0; depth < segments.length; depth += 1) {
    const index = siblings.findIndex((node) => node.value.tag === segments[depth]);
    if (index < 0) return null;
    if (depth === segments.length - 1) return { siblings, index };
    siblings = siblings[index].children;
  }
  return null;
}

/** `roots` without the label `path` (and everything under it). */
export function removeLabel(roots: LabelNode[], path: string): LabelNode[] {
  const copy = cloneRoots(roots);
  const found = locate(copy, path);
  if (found) found.siblings.splice(found.index, 1);
  return copy;
}

/** `roots` with label `path` moved `delta` places among its siblings (clamped). */
export function moveLabel(roots: LabelNode[], path: string, delta: number): LabelNode[] {
  const copy = cloneRoots(roots);
  const found = locate(copy, path);
  if (!found) return copy;
  const target = Math.max(0, Math.min(found.siblings.length - 1, found.index + delta));
  const [node] = found.siblings.splice(found.index, 1);
  found.siblings.splice(target, 0, node);
  return copy;
}

/** Where `path` sits among its siblings: whether it can move up or down. */
export function siblingPosition(roots: LabelNode[], path: string): { first: boolean; last: boolean } {
  const found = locate(roots, path);
  if (!found) return { first: true, last: true };
  return { first: found.index === 0, last: found.index === found.siblings.length - 1 };
}

/** `roots` with label `path`'s value changed; a new `tag` renames it in place (same parent). */
export function changeLabel(roots: LabelNode[], path: string, changes: Partial<LabelValue>): LabelNode[] {
  const copy = cloneRoots(roots);
  const found = locate(copy, path);
  if (!found) return copy;
  const node = found.siblings[found.index];
  node.value = { ...node.value, ...changes };
  if (changes.hotkey !== undefined) node.value.displayData = { ...node.value.displayData, hotkey: changes.hotkey };
  return copy;
}

/** The full tag a label gets when its own (last) segment becomes `tag`. */
export function renamedPath(path: string, tag: string): string {
  const cut = path.lastIndexOf(".");
  return cut < 0 ? tag : `${path.slice(0, cut)}.${tag}`;
}

/** `tag` after the label `from` was renamed to `to` (its descendants move with it). */
export function renameTag(tag: string, from: string, to: string): string {
  if (tag === from) return to;
  if (tag.startsWith(`${from}.`)) return to + tag.slice(from.length);
  return tag;
}

/** Whether `tag` is `path` or under it. */
export function isWithin(tag: string, path: string): boolean {
  return tag === path || tag.startsWith(`${path}.`);
}

/** The first palette colour no label uses yet (the server's own choice for a label without one). */
export function nextColor(roots: LabelNode[]): string {
  const used = new Set(flattenLabels(roots).map((label) => label.value.color.toLowerCase()));
  return PALETTE.find((color) => !used.has(color)) ?? PALETTE[used.size % PALETTE.length];
}

export function normaliseHotkey(raw: string): string | null {
  const key = raw.trim().toLowerCase();
  return key ? key : null;
}

/** A message when `raw` cannot be a tag (mirrors the server's first checks), else null. */
export function tagProblem(raw: string): string | null {
  const tag = raw.trim();
  if (!tag) return "A label needs a tag.";
  if (tag.startsWith(".") || tag.endsWith(".")) return "A tag may not start or end with a dot.";
  if (tag.split(".").some((part) => !part.trim())) return "A dotted tag may not have empty parts.";
  return null;
}

// --- attributes ----------------------------------------------------------------------------------
/** A key for an attribute from its title: lower case, words joined by underscores. */
export function deriveKey(title: string): string {
  return title
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "")
    .slice(0, 100);
}

/** The lines of a "one per line" text box, trimmed, without empty ones. */
export function parseValues(text: string): string[] {
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean);
}

export interface AttributeDraft {
  key: string;
  title: string;
  type: AttributeType;
  multi: boolean;
  mandatory: boolean;
  values: string;
  min: string;
  max: string;
  step: string;
  allLabels: boolean;
  scope: string[];
}

/** The definition to send for what the form holds, or a message saying what is missing. */
export function buildAttribute(draft: AttributeDraft): { ok: true; attribute: Attribute } | { ok: false; error: string } {
  const title = draft.title.trim();
  const key = draft.key.trim() || deriveKey(title);
  if (!title && !key) return { ok: false, error: "An attribute needs a title." };
  if (!key) return { ok: false, error: "Give the attribute a key (letters or digits)." };
  if (!draft.allLabels && draft.scope.length === 0) {
    return { ok: false, error: "Choose the labels the attribute applies to, or All labels." };
  }
  const attribute: Attribute = {
    key,
    title: title || key,
    type: draft.type,
    scope: draft.allLabels ? [ALL_LABELS] : [...draft.scope],
    optional: !draft.mandatory,
  };
  if (draft.type === "options") {
    const values = parseValues(draft.values);
    if (values.length === 0) return { ok: false, error: "An options attribute needs at least one value." };
    attribute.values = values;
    attribute.multi = draft.multi;
  }
  if (draft.type === "range") {
    const [min, max, step] = [draft.min, draft.max, draft.step || "1"].map((text) => (text.trim() === "" ? NaN : Number(text)));
    if (![min, max, step].every(Number.isFinite)) return { ok: false, error: "A number range needs a minimum, a maximum and a step." };
    attribute.range = { min, max, step };
  }
  return { ok: true, attribute };
}

/** One line saying what the attribute takes. */
export function describeAttribute(attribute: Attribute): string {
  switch (attribute.type) {
    case "options":
      return `${attribute.multi ? "Any of" : "One of"}: ${(attribute.values ?? []).join(", ")}`;
    case "boolean":
      return "Yes or no";
    case "freeText":
      return "Any text";
    case "range": {
      const range = attribute.range ?? { min: 0, max: 0, step: 1 };
      return `${range.min} to ${range.max}, step ${range.step}`;
    }
    default:
      return String(attribute.type);
  }
}

export function renameInScopes(attributes: Attribute[], from: string, to: string): Attribute[] {
  return attributes.map((attribute) => ({ ...attribute, scope: attribute.scope.map((tag) => renameTag(tag, from, to)) }));
}

// --- tools per label -----------------------------------------------------------------------------
/** The tools a label may use: those listed for it, or every tool when it is not listed. */
export function toolsFor(labelTools: LabelTools, tag: string): Set<Tool> {
  const listed = labelTools[tag];
  if (!listed) return new Set(TOOLS);
  return new Set(TOOLS.filter((tool) => listed.includes(tool)));
}

/** `labelTools` to send: an entry per label that is limited, in TOOLS order; a label with every tool is left out. */
export function normaliseLabelTools(choices: Map<string, Set<Tool>>, tags: string[]): LabelTools {
  const out: LabelTools = {};
  for (const tag of tags) {
    const chosen = choices.get(tag);
    if (!chosen || chosen.size === TOOLS.length) continue;
    out[tag] = TOOLS.filter((tool) => chosen.has(tool));
  }
  return out;
}

/**
 * The stored `labelTools` after this ontology's labels went from `before` to `after`: entries of
 * labels that are gone are dropped and a renamed label's entries move with it. Entries naming
 * labels this ontology never had (a recipe may have several ontologies) are kept as they are.
 */
export function migrateLabelTools(
  labelTools: LabelTools,
  before: string[],
  after: string[],
  rename?: { from: string; to: string },
): LabelTools {
  const had = new Set(before);
  const has = new Set(after);
  const out: LabelTools = {};
  for (const [tag, tools] of Object.entries(labelTools)) {
    if (!had.has(tag)) {
      out[tag] = [...tools];
      continue;
    }
    const now = rename ? renameTag(tag, rename.from, rename.to) : tag;
    if (has.has(now)) out[now] = [...tools];
  }
  return out;
}

/** The entries of `labelTools` for `tags` (or, with `keep` false, for every other tag). */
export function pickLabelTools(labelTools: LabelTools, tags: string[], keep = true): LabelTools {
  const wanted = new Set(tags);
  return Object.fromEntries(Object.entries(labelTools).filter(([tag]) => wanted.has(tag) === keep));
}

/** The same labels with the same sets of tools (the order of keys and of tools does not matter). */
export function sameLabelTools(a: LabelTools, b: LabelTools): boolean {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((key) => {
    if (!(key in b)) return false;
    const left = new Set(a[key]);
    const right = new Set(b[key]);
    return left.size === right.size && [...left].every((tool) => right.has(tool));
  });
}
