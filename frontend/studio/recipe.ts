/** The recipe as the studio uses it: labels in tree order with colours and hotkeys, tools per label, attributes. */
import { flattenLabels, toolsFor, type Attribute, type LabelNode, type LabelTools, type Tool } from "../lib/ontology";

export interface StudioLabel {
  tag: string;
  name: string;
  color: string;
  depth: number;
  hotkey: string | null;
  tools: Set<Tool>;
}

export interface RecipeView {
  labels: StudioLabel[];
  attributes: Attribute[];
}

const FALLBACK_COLOR = "#adb5bd";

/** Labels without a hotkey get the free digits 1-9 in tree order, so that every recipe is keyboard-ready. */
export function buildRecipe(roots: LabelNode[], attributes: Attribute[], labelTools: LabelTools): RecipeView {
  const flat = flattenLabels(roots);
  const taken = new Set(flat.map((l) => l.value.hotkey ?? (l.value.displayData?.hotkey as string | undefined)).filter(Boolean));
  const free = "123456789".split("").filter((d) => !taken.has(d));
  const labels = flat.map((l) => {
    const own = l.value.hotkey ?? (l.value.displayData?.hotkey as string | undefined) ?? null;
    return {
      tag: l.path,
      name: l.value.displayLabel || l.value.tag,
      color: l.value.color || FALLBACK_COLOR,
      depth: l.depth,
      hotkey: own ?? free.shift() ?? null,
      tools: toolsFor(labelTools, l.path),
    };
  });
  return { labels, attributes };
}

/** The attribute definitions that apply to `label` (the server's rule: "*" or the exact tag). */
export function attributesFor(attributes: Attribute[], label: string): Attribute[] {
  return attributes.filter((a) => a.scope.includes("*") || a.scope.includes(label));
}

/** `values` without the attributes that do not apply to `label` (the server refuses those). */
export function keepApplicable(attributes: Attribute[], label: string, values: Record<string, unknown>): Record<string, unknown> {
  const keys = new Set(attributesFor(attributes, label).map((a) => a.key));
  return Object.fromEntries(Object.entries(values).filter(([key]) => keys.has(key)));
}

/** Mandatory attributes of `label` that have no value in `values`. */
export function missingAttributes(attributes: Attribute[], label: string, values: Record<string, unknown>): Attribute[] {
  return attributesFor(attributes, label).filter((a) => {
    if (a.optional !== false) return false;
    const value = values[a.key];
    return value === undefined || value === null || value === "" || (Array.isArray(value) && value.length === 0);
  });
}

export function colorOf(labels: StudioLabel[], tag: string): string {
  return labels.find((l) => l.tag === tag)?.color ?? FALLBACK_COLOR;
}
