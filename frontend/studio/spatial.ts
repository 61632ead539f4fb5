/** The spatial index (rbush) over the shapes' bounds, and hit-testing through it. */
import RBush from "rbush";
import { geometryBounds, hitGeometry, type Bounds } from "./geometry";
import type { Annotation, Pt } from "./model";

interface Entry extends Bounds {
  key: string;
}

export class SpatialIndex {
  private tree = new RBush<Entry>();
  private readonly entries = new Map<string, Entry>();

  /** Replace the whole index (bulk loading is much faster than one insert per shape). */
  load(annotations: Annotation[]): void {
    this.tree.clear();
    this.entries.clear();
    const entries: Entry[] = [];
    for (const a of annotations) {
      const b = geometryBounds(a.geometry);
      if (!b) continue;
      const entry = { ...b, key: a.key };
      entries.push(entry);
      this.entries.set(a.key, entry);
    }
    this.tree.load(entries);
  }

  upsert(a: Annotation): void {
    this.remove(a.key);
    const b = geometryBounds(a.geometry);
    if (!b) return;
    const entry = { ...b, key: a.key };
    this.entries.set(a.key, entry);
    this.tree.insert(entry);
  }

  remove(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.tree.remove(entry);
    this.entries.delete(key);
  }

  /** Keys whose bounds meet `b`. */
  search(b: Bounds): string[] {
    return this.tree.search(b).map((e) => e.key);
  }

  get size(): number {
    return this.entries.size;
  }
}

export interface HitOptions {
  tolerance: number;
  /** Higher is on top. */
  z: (key: string) => number;
  get: (key: string) => Annotation | undefined;
  hidden?: (key: string) => boolean;
  maskHit?: (key: string, x: number, y: number) => boolean;
}

/** The topmost visible shape under `p` (image pixels), or null. */
export function hitTest(index: SpatialIndex, p: Pt, options: HitOptions): string | null {
  const t = options.tolerance;
  const candidates = index.search({ minX: p.x - t, minY: p.y - t, maxX: p.x + t, maxY: p.y + t });
  candidates.sort((a, b) => options.z(b) - options.z(a));
  // Among stacked shapes, a small one inside a big one must stay reachable: prefer the
  // smallest area among the hits on the top few, which is what people aim at.
  let best: string | null = null;
  let bestArea = Infinity;
  for (const key of candidates) {
    if (options.hidden?.(key)) continue;
    const a = options.get(key);
    if (!a) continue;
    const hit = hitGeometry(a.geometry, p, t, options.maskHit ? (x, y) => options.maskHit!(key, x, y) : undefined);
    if (!hit) continue;
    const b = geometryBounds(a.geometry)!;
    const area = (b.maxX - b.minX) * (b.maxY - b.minY);
    if (area < bestArea) {
      best = key;
      bestArea = area;
    }
  }
  return best;
}

/** Keys whose bounds fall entirely inside `b` (a marquee). */
export function insideBounds(index: SpatialIndex, b: Bounds, get: (key: string) => Annotation | undefined): string[] {
  return index.search(b).filter((key) => {
    const a = get(key);
    const own = a && geometryBounds(a.geometry);
    return !!own && own.minX >= b.minX && own.minY >= b.minY && own.maxX <= b.maxX && own.maxY <= b.maxY;
  });
}
