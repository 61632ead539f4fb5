/**
 * Level-of-detail and time-slicing decisions for the renderer. Pure, so they are testable.
 *
 * - Image levels: the image is kept at a few sizes (thumbnail, a preview, the full image); a
 *   frame draws the smallest one that still has at least one pixel per screen pixel, so a
 *   zoomed-out view never resamples the full 12+ megapixels on every frame.
 * - Shape levels: a shape smaller than a pixel or two on screen is drawn as a dot.
 * - Chunks: the crisp shape layer is drawn in slices sized to a time budget, so that no frame
 *   blocks for long however many shapes are in view.
 */

/** The longest side of the preview level decoded before the full image. */
export const PREVIEW_MAX = 2048;
/** A shape narrower and shorter than this on screen (CSS px) is drawn as a dot. */
export const DOT_BELOW_PX = 1.5;
/** Time for one slice of the crisp shape layer, per frame (ms). */
export const SLICE_BUDGET_MS = 8;
/** Before any shape is on screen (an item opening) a slice may take longer: there is nothing to keep moving. */
export const OPEN_BUDGET_MS = 40;
/** The first slice when nothing is on screen yet: a typical item (a few thousand shapes) in one frame. */
export const OPEN_FIRST_CHUNK = 3000;
export const MIN_CHUNK = 32;
export const FIRST_CHUNK = 250;
export const MAX_CHUNK = 20_000;

/**
 * Which of `widths` (the levels' widths in pixels, ascending) to draw when the image is
 * `screenWidth` device pixels wide on screen: the smallest level at least that wide, else the
 * largest. -1 when there are none.
 */
export function pickLevel(widths: readonly number[], screenWidth: number): number {
  if (!widths.length) return -1;
  for (let i = 0; i < widths.length; i++) if (widths[i] >= screenWidth) return i;
  return widths.length - 1;
}

/** The preview's size for an image of `width` x `height`, or null when the image is no bigger. */
export function previewSize(width: number, height: number, max = PREVIEW_MAX): { width: number; height: number } | null {
  const longest = Math.max(width, height);
  if (!(longest > max)) return null;
  const k = max / longest;
  return { width: Math.max(1, Math.round(width * k)), height: Math.max(1, Math.round(height * k)) };
}

/** Whether a shape with these image-space extents is drawn as a dot at `scale`. */
export function drawnAsDot(width: number, height: number, scale: number): boolean {
  return width * scale < DOT_BELOW_PX && height * scale < DOT_BELOW_PX;
}

/**
 * How many shapes the next slice draws, from the last slice's count and time: as many as the
 * budget allows at the measured rate, growing at most fourfold, within [MIN_CHUNK, MAX_CHUNK].
 */
export function nextChunk(lastCount: number, lastMs: number, budgetMs = SLICE_BUDGET_MS): number {
  if (lastCount <= 0) return FIRST_CHUNK;
  const perShape = Math.max(lastMs, 0.05) / lastCount;
  const fit = Math.floor(budgetMs / perShape);
  return Math.max(MIN_CHUNK, Math.min(MAX_CHUNK, lastCount * 4, fit));
}
