/** Polygons to pixels: the fill the studio uses to turn a polygon into a mask. Pure. */
import type { Pt } from "./model";

/**
 * A row-major 0/1 mask (width x height) of the pixels whose centres lie inside `rings` by the
 * even-odd rule, the rule the studio's hit test and the server use: a ring inside another is a
 * hole, and a self-crossing ring leaves its doubly covered parts empty.
 */
export function fillRings(rings: Pt[][], width: number, height: number): Uint8Array {
  const mask = new Uint8Array(width * height);
  let minY = Infinity, maxY = -Infinity;
  for (const ring of rings) for (const p of ring) {
    if (p.y < minY) minY = p.y;
    if (p.y > maxY) maxY = p.y;
  }
  const top = Math.max(0, Math.floor(minY)), bottom = Math.min(height - 1, Math.ceil(maxY));
  const xs: number[] = [];
  for (let y = top; y <= bottom; y++) {
    const cy = y + 0.5;
    xs.length = 0;
    for (const ring of rings) {
      for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
        const a = ring[i], b = ring[j];
        // Half-open in y, so a vertex on the scanline is counted once.
        if (a.y > cy !== b.y > cy) xs.push(a.x + ((cy - a.y) * (b.x - a.x)) / (b.y - a.y));
      }
    }
    xs.sort((p, q) => p - q);
    for (let k = 0; k + 1 < xs.length; k += 2) {
      // Pixel x is inside when its centre x + 0.5 lies in [xs[k], xs[k + 1]).
      const from = Math.max(0, Math.ceil(xs[k] - 0.5));
      const to = Math.min(width - 1, Math.ceil(xs[k + 1] - 0.5) - 1);
      mask.fill(1, y * width + from, to >= from ? y * width + to + 1 : y * width + from);
    }
  }
  return mask;
}
