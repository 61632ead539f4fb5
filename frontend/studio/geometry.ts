/** Pure geometry over the studio's model: bounds, hit tests, moves and clamping. */
import type { Geometry, Pt } from "./model";

export interface Bounds {
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
}

export function boundsOfPoints(points: Iterable<Pt>): Bounds {
  let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
  for (const p of points) {
    if (p.x < minX) minX = p.x;
    if (p.y < minY) minY = p.y;
    if (p.x > maxX) maxX = p.x;
    if (p.y > maxY) maxY = p.y;
  }
  return { minX, minY, maxX, maxY };
}

const DEG = Math.PI / 180;

/** The four corners of a (possibly rotated, angle in degrees about its centre) box, clockwise from top-left. */
export function boxCorners(g: Extract<Geometry, { kind: "box" }>): Pt[] {
  const corners = [
    { x: g.x1, y: g.y1 },
    { x: g.x2, y: g.y1 },
    { x: g.x2, y: g.y2 },
    { x: g.x1, y: g.y2 },
  ];
  if (!g.angle) return corners;
  const c = { x: (g.x1 + g.x2) / 2, y: (g.y1 + g.y2) / 2 };
  return corners.map((p) => rotate(p, c, g.angle * DEG));
}

export function rotate(p: Pt, c: Pt, radians: number): Pt {
  const cos = Math.cos(radians), sin = Math.sin(radians);
  const dx = p.x - c.x, dy = p.y - c.y;
  return { x: c.x + dx * cos - dy * sin, y: c.y + dx * sin + dy * cos };
}

/** Bounds in image pixels; null for shapes that have no place on the canvas (classifications). */
export function geometryBounds(g: Geometry): Bounds | null {
  switch (g.kind) {
    case "box":
      return boundsOfPoints(boxCorners(g));
    case "segment":
      return boundsOfPoints(g.rings.flat());
    case "polyline":
      return boundsOfPoints(g.lines.flat());
    case "point":
      return { minX: g.p.x, minY: g.p.y, maxX: g.p.x, maxY: g.p.y };
    case "ellipse": {
      // The axis-aligned bounds of a rotated ellipse.
      const a = g.angle * DEG;
      const hw = Math.hypot(g.rx * Math.cos(a), g.ry * Math.sin(a));
      const hh = Math.hypot(g.rx * Math.sin(a), g.ry * Math.cos(a));
      return { minX: g.cx - hw, minY: g.cy - hh, maxX: g.cx + hw, maxY: g.cy + hh };
    }
    case "binary": {
      const b = g.mask.bbox;
      return b ? { minX: b[0], minY: b[1], maxX: b[2] + 1, maxY: b[3] + 1 } : null;
    }
    default:
      return null;
  }
}

export function distanceToSegment(p: Pt, a: Pt, b: Pt): number {
  const dx = b.x - a.x, dy = b.y - a.y;
  const lengthSq = dx * dx + dy * dy;
  let t = lengthSq ? ((p.x - a.x) * dx + (p.y - a.y) * dy) / lengthSq : 0;
  t = Math.max(0, Math.min(1, t));
  return Math.hypot(p.x - (a.x + t * dx), p.y - (a.y + t * dy));
}

/** Even-odd point-in-polygon over all rings, which is how the server fills self-intersecting rings. */
export function pointInRings(p: Pt, rings: Pt[][]): boolean {
  let inside = false;
  for (const ring of rings) {
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const a = ring[i], b = ring[j];
      if (a.y > p.y !== b.y > p.y && p.x < ((b.x - a.x) * (p.y - a.y)) / (b.y - a.y) + a.x) inside = !inside;
    }
  }
  return inside;
}

function nearPath(p: Pt, path: Pt[], closed: boolean, tolerance: number): boolean {
  const n = path.length;
  for (let i = 0; i < n - (closed ? 0 : 1); i++) {
    if (distanceToSegment(p, path[i], path[(i + 1) % n]) <= tolerance) return true;
  }
  return false;
}

/** Whether a click at `p` (image pixels) hits the shape; `tolerance` is in image pixels. */
export function hitGeometry(g: Geometry, p: Pt, tolerance: number, maskHit?: (x: number, y: number) => boolean): boolean {
  switch (g.kind) {
    case "box": {
      const corners = boxCorners(g);
      return pointInRings(p, [corners]) || nearPath(p, corners, true, tolerance);
    }
    case "segment":
      return pointInRings(p, g.rings) || g.rings.some((ring) => nearPath(p, ring, true, tolerance));
    case "polyline":
      return g.lines.some((line) => nearPath(p, line, false, tolerance));
    case "point":
      return Math.hypot(p.x - g.p.x, p.y - g.p.y) <= tolerance + 3;
    case "ellipse": {
      const local = rotate(p, { x: g.cx, y: g.cy }, -g.angle * DEG);
      const rx = g.rx + tolerance, ry = g.ry + tolerance;
      const dx = local.x - g.cx, dy = local.y - g.cy;
      return (dx * dx) / (rx * rx) + (dy * dy) / (ry * ry) <= 1;
    }
    case "binary":
      return maskHit ? maskHit(Math.floor(p.x), Math.floor(p.y)) : false;
    default:
      return false;
  }
}

export function translateGeometry(g: Geometry, dx: number, dy: number): Geometry {
  const move = (p: Pt) => ({ x: p.x + dx, y: p.y + dy });
  switch (g.kind) {
    case "box":
      return { ...g, x1: g.x1 + dx, y1: g.y1 + dy, x2: g.x2 + dx, y2: g.y2 + dy };
    case "segment":
      return { kind: "segment", rings: g.rings.map((r) => r.map(move)) };
    case "polyline":
      return { kind: "polyline", lines: g.lines.map((r) => r.map(move)) };
    case "point":
      return { kind: "point", p: move(g.p) };
    case "ellipse":
      return { ...g, cx: g.cx + dx, cy: g.cy + dy };
    default:
      return g;
  }
}

/** How far a shape may move by (dx, dy) and stay inside a width x height image. */
export function clampDelta(b: Bounds, dx: number, dy: number, width: number, height: number): { dx: number; dy: number } {
  return {
    dx: Math.min(Math.max(dx, -b.minX), width - b.maxX),
    dy: Math.min(Math.max(dy, -b.minY), height - b.maxY),
  };
}

export function clampPoint(p: Pt, width: number, height: number): Pt {
  return { x: Math.min(Math.max(p.x, 0), width), y: Math.min(Math.max(p.y, 0), height) };
}

/** A box from two corners in any order. */
export function boxFrom(a: Pt, b: Pt): Extract<Geometry, { kind: "box" }> {
  return { kind: "box", x1: Math.min(a.x, b.x), y1: Math.min(a.y, b.y), x2: Math.max(a.x, b.x), y2: Math.max(a.y, b.y), angle: 0 };
}

/** The handles of an editable shape, in image pixels: box corners (rotated with the box), polygon vertices. */
export type Handle = { kind: "corner"; index: number; p: Pt } | { kind: "vertex"; ring: number; index: number; p: Pt };

export function handlesOf(g: Geometry): Handle[] {
  if (g.kind === "box") {
    return boxCorners(g).map((p, index) => ({ kind: "corner", index, p }));
  }
  if (g.kind === "segment") return g.rings.flatMap((ring, r) => ring.map((p, index) => ({ kind: "vertex" as const, ring: r, index, p })));
  if (g.kind === "polyline") return g.lines.flatMap((line, r) => line.map((p, index) => ({ kind: "vertex" as const, ring: r, index, p })));
  return [];
}

/** The shape with a handle dragged to `to`. A box corner drag keeps the opposite corner fixed. */
export function dragHandle(g: Geometry, handle: Handle, to: Pt): Geometry {
  if (g.kind === "box" && handle.kind === "corner") {
    const corners = boxCorners(g);
    const opposite = corners[(handle.index + 2) % 4];
    if (!g.angle) return boxFrom(opposite, to);
    // A rotated box keeps its angle: the new centre is halfway between the fixed corner and the
    // pointer, and its size is their offset measured along the box's own axes.
    const c = { x: (opposite.x + to.x) / 2, y: (opposite.y + to.y) / 2 };
    const local = rotate(to, c, -g.angle * DEG);
    const hw = Math.abs(local.x - c.x), hh = Math.abs(local.y - c.y);
    return { kind: "box", x1: c.x - hw, y1: c.y - hh, x2: c.x + hw, y2: c.y + hh, angle: g.angle };
  }
  if ((g.kind === "segment" || g.kind === "polyline") && handle.kind === "vertex") {
    const paths = (g.kind === "segment" ? g.rings : g.lines).map((r, ri) => (ri === handle.ring ? r.map((p, i) => (i === handle.index ? { ...to } : p)) : r));
    return g.kind === "segment" ? { kind: "segment", rings: paths } : { kind: "polyline", lines: paths };
  }
  return g;
}

/** Area of a simple ring (absolute, shoelace), used to refuse degenerate drawings. */
export function ringArea(ring: Pt[]): number {
  let sum = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) sum += (ring[j].x + ring[i].x) * (ring[j].y - ring[i].y);
  return Math.abs(sum / 2);
}

type Rotatable = Extract<Geometry, { kind: "box" } | { kind: "ellipse" }>;

export function isRotatable(g: Geometry): g is Rotatable {
  return g.kind === "box" || g.kind === "ellipse";
}

function centreOf(g: Rotatable): Pt {
  return g.kind === "box" ? { x: (g.x1 + g.x2) / 2, y: (g.y1 + g.y2) / 2 } : { x: g.cx, y: g.cy };
}

/** Where the rotation handle sits: `offset` image pixels beyond the middle of the (rotated) top edge. */
export function rotationHandle(g: Rotatable, offset: number): { centre: Pt; edge: Pt; handle: Pt } {
  const centre = centreOf(g);
  const half = g.kind === "box" ? Math.abs(g.y2 - g.y1) / 2 : g.ry;
  const turn = g.angle * DEG;
  return {
    centre,
    edge: rotate({ x: centre.x, y: centre.y - half }, centre, turn),
    handle: rotate({ x: centre.x, y: centre.y - half - offset }, centre, turn),
  };
}

/** An angle in degrees in [0, 360), as the server stores it. */
export function normaliseAngle(degrees: number): number {
  const a = ((degrees % 360) + 360) % 360;
  return Math.abs(a - 360) < 1e-9 ? 0 : a;
}

/** The angle (degrees, clockwise on screen, 0 = handle straight up) that puts the handle at `p`; `snap` rounds to steps. */
export function angleTowards(centre: Pt, p: Pt, snap = 0): number {
  let degrees = (Math.atan2(p.x - centre.x, centre.y - p.y) * 180) / Math.PI;
  if (snap) degrees = Math.round(degrees / snap) * snap;
  return normaliseAngle(Math.round(degrees * 100) / 100);
}

export function withAngle(g: Rotatable, degrees: number): Rotatable {
  return { ...g, angle: normaliseAngle(degrees) };
}

/**
 * Ramer-Douglas-Peucker: drop the points that lie within `tolerance` of the line through their
 * neighbours, keeping the first and the last. Freehand strokes come out with a point per few pixels.
 */
export function simplifyPath(points: Pt[], tolerance: number): Pt[] {
  if (points.length <= 2) return points.slice();
  const keep = new Uint8Array(points.length);
  keep[0] = keep[points.length - 1] = 1;
  const stack: [number, number][] = [[0, points.length - 1]];
  while (stack.length) {
    const [first, last] = stack.pop()!;
    let farthest = -1;
    let distance = tolerance;
    for (let i = first + 1; i < last; i++) {
      const d = distanceToSegment(points[i], points[first], points[last]);
      if (d > distance) {
        distance = d;
        farthest = i;
      }
    }
    if (farthest < 0) continue;
    keep[farthest] = 1;
    stack.push([first, farthest], [farthest, last]);
  }
  return points.filter((_, i) => keep[i]);
}
