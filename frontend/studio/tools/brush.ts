/**
 * Brush and eraser for masks. A stroke paints into an image-sized bitmap (one byte per pixel)
 * and, row for row the same pixels, into an offscreen canvas that the overlay shows; the mask
 * is encoded (COCO RLE) once, when the button is released. The brush adds to the selected mask
 * when it has the active label, or starts a new one; the eraser works on the selected mask.
 * [ and ] change the size.
 */
import { Mode, type Annotation, type Pt } from "../model";
import { decodeMask, encodeMask } from "../rle";
import type { Viewport } from "../viewport";
import type { Tool, ToolHost, ToolPointer } from "./tool";

export const MIN_BRUSH = 1;
export const MAX_BRUSH = 400;

interface Stroke {
  target: Annotation | null;
  data: Uint8Array;
  canvas: HTMLCanvasElement;
  ctx: CanvasRenderingContext2D;
  last: Pt;
  changed: boolean;
}

/** Sets the pixels of a disc (diameter `size`, centre `c`) to `value`; calls `row` for each run it sets. */
export function stampDisc(data: Uint8Array, width: number, height: number, c: Pt, size: number, value: 0 | 1, row?: (y: number, x0: number, x1: number) => void): boolean {
  const r = Math.max(0.5, size / 2);
  let changed = false;
  const top = Math.max(0, Math.floor(c.y - r));
  const bottom = Math.min(height - 1, Math.ceil(c.y + r));
  for (let y = top; y <= bottom; y++) {
    const dy = y + 0.5 - c.y;
    if (Math.abs(dy) > r) continue;
    const half = Math.sqrt(r * r - dy * dy);
    const x0 = Math.max(0, Math.ceil(c.x - half - 0.5));
    const x1 = Math.min(width - 1, Math.floor(c.x + half - 0.5));
    if (x1 < x0) continue;
    const offset = y * width;
    for (let x = x0; x <= x1; x++) {
      if (data[offset + x] !== value) {
        data[offset + x] = value;
        changed = true;
      }
    }
    row?.(y, x0, x1);
  }
  return changed;
}

export class BrushTool implements Tool {
  private stroke: Stroke | null = null;
  private cursor: Pt | null = null;
  size = 16;

  constructor(
    private readonly host: ToolHost,
    readonly mode: Mode.Brush | Mode.Eraser = Mode.Brush,
  ) {}

  get busy(): boolean {
    return this.stroke !== null;
  }

  activate(): void {
    this.host.setCursor("none");
  }

  cancel(): void {
    this.stroke = null;
    this.host.setPainting(null);
    this.host.redraw();
  }

  private target(): Annotation | null {
    if (this.host.selected.size !== 1) return null;
    const a = this.host.store.get([...this.host.selected][0]);
    if (!a || a.geometry.kind !== "binary" || this.host.isLocked(a.key)) return null;
    if (this.mode === Mode.Brush && a.label !== this.host.activeLabelTag()) return null;
    return a;
  }

  pointerDown(p: ToolPointer): void {
    if (p.button !== 0 || !this.host.canEdit) return;
    const target = this.target();
    if (this.mode === Mode.Eraser && !target) {
      this.host.announce("Select a mask to erase from.");
      return;
    }
    const { imageWidth: width, imageHeight: height } = this.host;
    let data: Uint8Array;
    try {
      data = target && target.geometry.kind === "binary" ? decodeMask(target.geometry.mask) : new Uint8Array(width * height);
    } catch {
      this.host.announce("This mask cannot be read, so it cannot be painted.");
      return;
    }
    const canvas = document.createElement("canvas");
    canvas.width = width;
    canvas.height = height;
    const ctx = canvas.getContext("2d")!;
    const color = this.host.colorOf(target?.label ?? this.host.activeLabelTag() ?? "");
    ctx.fillStyle = color;
    if (target) {
      // Existing pixels, as runs per row: far fewer calls than one per pixel.
      for (let y = 0; y < height; y++) {
        let x = 0;
        const offset = y * width;
        while (x < width) {
          if (!data[offset + x]) {
            x++;
            continue;
          }
          const start = x;
          while (x < width && data[offset + x]) x++;
          ctx.fillRect(start, y, x - start, 1);
        }
      }
    }
    this.stroke = { target, data, canvas, ctx, last: p.image, changed: false };
    this.host.setPainting(target?.key ?? null);
    this.paint(p.image);
  }

  private paint(to: Pt): void {
    const stroke = this.stroke!;
    const { imageWidth: width, imageHeight: height } = this.host;
    const value = this.mode === Mode.Brush ? 1 : 0;
    const row = (y: number, x0: number, x1: number) => {
      if (value) stroke.ctx.fillRect(x0, y, x1 - x0 + 1, 1);
      else stroke.ctx.clearRect(x0, y, x1 - x0 + 1, 1);
    };
    // Stamps along the segment, close enough to make a solid line.
    const from = stroke.last;
    const distance = Math.hypot(to.x - from.x, to.y - from.y);
    const steps = Math.max(1, Math.ceil(distance / Math.max(0.5, this.size / 4)));
    for (let i = 1; i <= steps; i++) {
      const c = { x: from.x + ((to.x - from.x) * i) / steps, y: from.y + ((to.y - from.y) * i) / steps };
      if (stampDisc(stroke.data, width, height, c, this.size, value, row)) stroke.changed = true;
    }
    if (steps === 1 && distance === 0 && stampDisc(stroke.data, width, height, to, this.size, value, row)) stroke.changed = true;
    stroke.last = to;
    this.host.redraw();
  }

  pointerMove(p: ToolPointer): void {
    this.cursor = p.image;
    if (this.stroke) this.paint(p.image);
    else this.host.redraw();
  }

  pointerUp(p: ToolPointer): void {
    const stroke = this.stroke;
    if (!stroke) return;
    this.paint(p.image);
    this.stroke = null;
    this.host.setPainting(null);
    if (!stroke.changed) return;
    const encoded = encodeMask(stroke.data, this.host.imageWidth, this.host.imageHeight);
    const geometry = { kind: "binary" as const, mask: encoded };
    if (stroke.target) {
      if (!encoded.bbox) this.host.store.remove([stroke.target.key], "Erase mask");
      else this.host.store.update({ ...stroke.target, geometry }, this.mode === Mode.Brush ? "Paint" : "Erase");
    } else if (encoded.bbox) {
      this.host.create(geometry);
    }
    this.host.redraw();
  }

  keyDown(event: KeyboardEvent): boolean {
    if (event.key === "[" || event.key === "]") {
      const factor = event.key === "]" ? 1.25 : 0.8;
      this.size = Math.round(Math.min(MAX_BRUSH, Math.max(MIN_BRUSH, this.size * factor + (event.key === "]" ? 1 : -1))));
      this.host.announce(`${this.mode === Mode.Brush ? "Brush" : "Eraser"} size ${this.size} px`);
      this.host.redraw();
      return true;
    }
    return false;
  }

  drawOverlay(ctx: CanvasRenderingContext2D, viewport: Viewport): void {
    if (this.stroke) {
      ctx.save();
      ctx.globalAlpha = 0.6;
      ctx.imageSmoothingEnabled = false;
      ctx.drawImage(this.stroke.canvas, viewport.x, viewport.y, this.stroke.canvas.width * viewport.scale, this.stroke.canvas.height * viewport.scale);
      ctx.restore();
    }
    if (this.cursor) {
      const c = viewport.toScreen(this.cursor);
      const r = Math.max(1, (this.size / 2) * viewport.scale);
      ctx.beginPath();
      ctx.arc(c.x, c.y, r, 0, Math.PI * 2);
      ctx.strokeStyle = "#000";
      ctx.lineWidth = 3;
      ctx.stroke();
      ctx.strokeStyle = this.mode === Mode.Brush ? "#fff" : "#ff8787";
      ctx.lineWidth = 1.5;
      ctx.stroke();
    }
  }
}
