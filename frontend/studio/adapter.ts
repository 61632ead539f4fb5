/** The format adapter at the API boundary: annotation JSON (maskFormat=rle) to the studio's model and back. */
import type { Annotation, Geometry, Pt, Rle } from "./model";

export interface WireAnnotation {
  id: string;
  type: string;
  label: string;
  coordinates?: unknown;
  metadata?: { system?: { attributes?: Record<string, unknown>; status?: string | null; parentId?: string | null }; user?: unknown };
  version: number;
}

/** What a creation or an update sends. */
export interface WireWrite {
  type: string;
  label: string;
  coordinates?: unknown;
  metadata: { system: { attributes: Record<string, unknown> } };
}

const num = (value: unknown): number => (typeof value === "number" && Number.isFinite(value) ? value : 0);
const pt = (value: unknown): Pt => {
  const p = (value ?? {}) as { x?: unknown; y?: unknown };
  return { x: num(p.x), y: num(p.y) };
};
const paths = (value: unknown): Pt[][] => (Array.isArray(value) ? value.map((ring) => (Array.isArray(ring) ? ring.map(pt) : [])) : []);

export function geometryFromWire(type: string, coordinates: unknown): Geometry {
  switch (type) {
    case "box": {
      const c = Array.isArray(coordinates) ? coordinates : [];
      const a = pt(c[0]), b = pt(c[1]);
      return { kind: "box", x1: Math.min(a.x, b.x), y1: Math.min(a.y, b.y), x2: Math.max(a.x, b.x), y2: Math.max(a.y, b.y), angle: num(c[2]) };
    }
    case "segment":
      return { kind: "segment", rings: paths(coordinates) };
    case "polyline":
      return { kind: "polyline", lines: paths(coordinates) };
    case "point":
      return { kind: "point", p: pt(coordinates) };
    case "ellipse": {
      const e = (coordinates ?? {}) as { center?: unknown; rx?: unknown; ry?: unknown; angle?: unknown };
      const c = pt(e.center);
      return { kind: "ellipse", cx: c.x, cy: c.y, rx: num(e.rx), ry: num(e.ry), angle: num(e.angle) };
    }
    case "binary":
      return { kind: "binary", mask: coordinates as Rle };
    case "class":
      return { kind: "class" };
    default:
      return { kind: "note", raw: coordinates };
  }
}

const wirePt = (p: Pt) => ({ x: round(p.x), y: round(p.y), z: 0 });
/** Sub-pixel precision beyond 1/100 is noise from the mouse and the zoom. */
const round = (v: number) => Math.round(v * 100) / 100;

export function geometryToWire(g: Geometry): unknown {
  switch (g.kind) {
    case "box": {
      const corners = [wirePt({ x: g.x1, y: g.y1 }), wirePt({ x: g.x2, y: g.y2 })];
      return g.angle ? [...corners, g.angle] : corners;
    }
    case "segment":
      return g.rings.map((ring) => ring.map(wirePt));
    case "polyline":
      return g.lines.map((line) => line.map(wirePt));
    case "point":
      return wirePt(g.p);
    case "ellipse":
      return { center: wirePt({ x: g.cx, y: g.cy }), rx: round(g.rx), ry: round(g.ry), angle: g.angle };
    case "binary":
      return { size: g.mask.size, counts: g.mask.counts };
    case "class":
      return undefined;
    default:
      return g.raw;
  }
}

export function annotationFromWire(json: WireAnnotation, key: string = json.id): Annotation {
  const system = json.metadata?.system ?? {};
  return {
    key,
    type: geometryFromWire(json.type, json.coordinates).kind,
    label: json.label,
    geometry: geometryFromWire(json.type, json.coordinates),
    attributes: { ...(system.attributes ?? {}) },
    status: system.status ?? null,
    parentId: system.parentId ?? null,
  };
}

export function annotationToWire(a: Annotation): WireWrite {
  const write: WireWrite = { type: a.type, label: a.label, metadata: { system: { attributes: { ...a.attributes } } } };
  const coordinates = geometryToWire(a.geometry);
  if (coordinates !== undefined) write.coordinates = coordinates;
  return write;
}
