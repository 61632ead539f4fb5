/** The view transform: screen = image * scale + offset (CSS pixels). Pure, so it is testable. */
import type { Bounds } from "./geometry";
import type { Pt } from "./model";

export const MIN_SCALE = 0.02;
export const MAX_SCALE = 64;

export class Viewport {
  constructor(
    public scale = 1,
    public x = 0,
    public y = 0,
  ) {}

  clone(): Viewport {
    return new Viewport(this.scale, this.x, this.y);
  }

  equals(other: Viewport): boolean {
    return this.scale === other.scale && this.x === other.x && this.y === other.y;
  }

  toImage(p: Pt): Pt {
    return { x: (p.x - this.x) / this.scale, y: (p.y - this.y) / this.scale };
  }

  toScreen(p: Pt): Pt {
    return { x: p.x * this.scale + this.x, y: p.y * this.scale + this.y };
  }

  /** Zoom by `factor` keeping the image point under the screen point `at` where it is. */
  zoomAt(at: Pt, factor: number): void {
    const next = Math.min(MAX_SCALE, Math.max(MIN_SCALE, this.scale * factor));
    const anchor = this.toImage(at);
    this.scale = next;
    this.x = at.x - anchor.x * next;
    this.y = at.y - anchor.y * next;
  }

  panBy(dx: number, dy: number): void {
    this.x += dx;
    this.y += dy;
  }

  /** The whole image centred in the view with a margin. */
  fit(imageWidth: number, imageHeight: number, viewWidth: number, viewHeight: number, margin = 16): void {
    const scale = Math.min((viewWidth - 2 * margin) / imageWidth, (viewHeight - 2 * margin) / imageHeight);
    this.scale = Math.min(MAX_SCALE, Math.max(MIN_SCALE, scale));
    this.x = (viewWidth - imageWidth * this.scale) / 2;
    this.y = (viewHeight - imageHeight * this.scale) / 2;
  }

  /** One image pixel per screen pixel, keeping the view's centre. */
  actualSize(viewWidth: number, viewHeight: number): void {
    this.zoomAt({ x: viewWidth / 2, y: viewHeight / 2 }, 1 / this.scale);
  }

  /** The part of the image in view, in image pixels. */
  visibleBounds(viewWidth: number, viewHeight: number): Bounds {
    const a = this.toImage({ x: 0, y: 0 });
    const b = this.toImage({ x: viewWidth, y: viewHeight });
    return { minX: a.x, minY: a.y, maxX: b.x, maxY: b.y };
  }
}
