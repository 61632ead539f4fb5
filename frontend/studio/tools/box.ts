/** Box: press, drag, release. Also ellipses, which are drawn the same way into their bounds. */
import { boxFrom, clampPoint } from "../geometry";
import { Mode, type Pt } from "../model";
import type { Viewport } from "../viewport";
import { strokeScreenPath, type Tool, type ToolHost, type ToolPointer } from "./tool";

/** Smaller than this on screen is a slip of the hand, not a box. */
const MIN_DRAG_PX = 4;

export class BoxTool implements Tool {
  private start: Pt | null = null;
  private end: Pt | null = null;

  constructor(
    protected readonly host: ToolHost,
    readonly mode: Mode.Box | Mode.Ellipse = Mode.Box,
  ) {}

  get busy(): boolean {
    return this.start !== null;
  }

  activate(): void {
    this.host.setCursor("crosshair");
  }

  cancel(): void {
    this.start = this.end = null;
    this.host.redraw();
  }

  pointerDown(p: ToolPointer): void {
    if (p.button !== 0) return;
    this.start = clampPoint(p.image, this.host.imageWidth, this.host.imageHeight);
    this.end = this.start;
  }

  pointerMove(p: ToolPointer): void {
    if (!this.start) return;
    this.end = clampPoint(p.image, this.host.imageWidth, this.host.imageHeight);
    this.host.redraw();
  }

  pointerUp(p: ToolPointer): void {
    if (!this.start) return;
    this.end = clampPoint(p.image, this.host.imageWidth, this.host.imageHeight);
    const box = boxFrom(this.start, this.end);
    this.start = this.end = null;
    const scale = this.host.viewport.scale;
    if ((box.x2 - box.x1) * scale < MIN_DRAG_PX || (box.y2 - box.y1) * scale < MIN_DRAG_PX) {
      this.host.redraw();
      return;
    }
    if (this.mode === Mode.Box) {
      this.host.create(box);
    } else {
      this.host.create({ kind: "ellipse", cx: (box.x1 + box.x2) / 2, cy: (box.y1 + box.y2) / 2, rx: (box.x2 - box.x1) / 2, ry: (box.y2 - box.y1) / 2, angle: 0 });
    }
    this.host.redraw();
  }

  keyDown(): boolean {
    return false;
  }

  drawOverlay(ctx: CanvasRenderingContext2D, viewport: Viewport): void {
    if (!this.start || !this.end) return;
    const b = boxFrom(this.start, this.end);
    if (this.mode === Mode.Box) {
      strokeScreenPath(ctx, viewport, [{ x: b.x1, y: b.y1 }, { x: b.x2, y: b.y1 }, { x: b.x2, y: b.y2 }, { x: b.x1, y: b.y2 }], true, "#ffd43b");
    } else {
      const c = viewport.toScreen({ x: (b.x1 + b.x2) / 2, y: (b.y1 + b.y2) / 2 });
      ctx.beginPath();
      ctx.ellipse(c.x, c.y, ((b.x2 - b.x1) / 2) * viewport.scale, ((b.y2 - b.y1) / 2) * viewport.scale, 0, 0, Math.PI * 2);
      ctx.strokeStyle = "#ffd43b";
      ctx.lineWidth = 2;
      ctx.stroke();
    }
  }
}
