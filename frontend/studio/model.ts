/**
 * The studio's own annotation model. The API's JSON is turned into this at the boundary
 * (adapter.ts) so that tools, the renderer and the store never see wire formats.
 */

export interface Pt {
  x: number;
  y: number;
}

/** A COCO RLE mask as the API sends it with maskFormat=rle. */
export interface Rle {
  size: [number, number]; // [height, width]
  counts: string;
  bbox?: [number, number, number, number] | null; // left, top, right, bottom (inclusive)
}

export type Geometry =
  | { kind: "box"; x1: number; y1: number; x2: number; y2: number; angle: number }
  | { kind: "segment"; rings: Pt[][] }
  | { kind: "polyline"; lines: Pt[][] }
  | { kind: "point"; p: Pt }
  | { kind: "ellipse"; cx: number; cy: number; rx: number; ry: number; angle: number }
  | { kind: "binary"; mask: Rle }
  | { kind: "class" }
  | { kind: "note"; raw: unknown };

export type AnnotationType = Geometry["kind"];

export interface Annotation {
  /** Stable in the studio for the annotation's whole life; a loaded annotation's key is its server id. */
  key: string;
  type: AnnotationType;
  label: string;
  geometry: Geometry;
  attributes: Record<string, unknown>;
  /** Review status and links, read-only in this slice. */
  status: string | null;
  parentId: string | null;
}

/** What the studio is doing; one tool class per drawing mode. */
export enum Mode {
  Select = "select",
  Box = "box",
  Polygon = "segment",
  Polyline = "polyline",
  Point = "point",
  Ellipse = "ellipse",
  Brush = "binary",
  Eraser = "eraser",
  /** Review only: drop a note pin where an object is missing. */
  Note = "note",
}

/** The recipe tool (annotation type) a mode draws: the eraser works on masks. */
export function toolOfMode(mode: Mode): string {
  return mode === Mode.Eraser ? "binary" : mode;
}

export const MODE_NAMES: Record<Mode, string> = {
  [Mode.Select]: "Select",
  [Mode.Box]: "Box",
  [Mode.Polygon]: "Polygon",
  [Mode.Polyline]: "Polyline",
  [Mode.Point]: "Point",
  [Mode.Ellipse]: "Ellipse",
  [Mode.Brush]: "Brush",
  [Mode.Eraser]: "Eraser",
  [Mode.Note]: "Drop a note",
};

export const MODE_KEYS: Record<Mode, string> = {
  [Mode.Select]: "v",
  [Mode.Box]: "b",
  [Mode.Polygon]: "p",
  [Mode.Polyline]: "l",
  [Mode.Point]: "o",
  [Mode.Ellipse]: "e",
  [Mode.Brush]: "m",
  [Mode.Eraser]: "x",
  [Mode.Note]: "n",
};

export const TYPE_NAMES: Record<AnnotationType, string> = {
  box: "Box",
  segment: "Polygon",
  polyline: "Polyline",
  point: "Point",
  ellipse: "Ellipse",
  binary: "Mask",
  class: "Classification",
  note: "Note",
};

export function cloneAnnotation(a: Annotation): Annotation {
  return structuredClone(a);
}

/** Equality of what is saved (label, geometry, attributes). */
export function sameContent(a: Annotation, b: Annotation): boolean {
  return a.label === b.label && JSON.stringify(a.geometry) === JSON.stringify(b.geometry) && JSON.stringify(a.attributes) === JSON.stringify(b.attributes);
}
