/**
 * Note: a reviewer marks where an object is missing. Drag a small box, or click for a pin of a
 * fixed size on screen; the box stays drawn while the message is typed, until `clear()`.
 * The tool never saves: it hands the box to whoever listens (task mode asks for the message).
 */
import { boxFrom, clampPoint } from "../geometry";
import { Mode, type Pt } from "../model";
import type { Viewport } from "../viewport";
import { strokeScreenPath, type Tool, type ToolHost, type ToolPointer } from "./tool";

/** A click (less of a drag than this) drops a pin this many screen pixels wide. */
const CLICK_PX = 4;
const PIN_PX = 28;

export interface NoteBox {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

export class NoteTool implements Tool {
  readonly mode = Mode.Note;
  private start: Pt | null = null;
  private end: Pt | null = null;
  /** Dropped, waiting for its message. */
  pending: NoteBox | null = null;

  constructor(
    private readonly host: ToolHost,
    private readonly dropped: (box: NoteBox) => void,
  ) {}

  get busy(): boolean {
    return this.start !== null || this.pending !== null;
  }

  activate(): void {
    this.host.setCursor("crosshair");
  }

  cancel(): void {
    this.start = this.end = this.pending = null;
    this.host.redraw();
  }

  /** The note was saved or given up: forget the box. */
  clear(): void {
    this.cancel();
  }

  pointerDown(p: ToolPointer): void {
    if (p.button !== 0) return;
    this.pending = null;
    this.start = this.end = clampPoint(p.image, this.host.imageWidth, this.host.imageHeight);
  }

  pointerMove(p: ToolPointer): void {
    if (!this.start) return;
    this.end = clampPoint(p.image, this.host.imageWidth, this.host.imageHeight);
    this.host.redraw();
  }

  pointerUp(p: ToolPointer): void {
    if (!this.start) return;
    this.end = clampPoint(p.image, this.host.imageWidth, this.host.imageHeight);
    let box: NoteBox = boxFrom(this.start, this.end);
    const scale = this.host.viewport.scale;
    if ((box.x2 - box.x1) * scale < CLICK_PX && (box.y2 - box.y1) * scale < CLICK_PX) {
      const half = PIN_PX / 2 / scale;
      const { imageWidth: w, imageHeight: h } = this.host;
      box = { x1: Math.max(0, this.start.x - half), y1: Math.max(0, this.start.y - half), x2: Math.min(w, this.start.x + half), y2: Math.min(h, this.start.y + half) };
    }
    this.start = this.end = null;
    this.pending = box;
    this.host.redraw();
    this.dropped(box);
  }

  keyDown(): boolean {
    return false;
  }

  drawOverlay(ctx: CanvasRenderingContext2D, viewport: Viewport): void {
    const b = this.pending ?? (this.start && this.end ? boxFrom(this.start, this.end) : null);
    if (!b) return;
    strokeScreenPath(ctx, viewport, [{ x: b.x1, y: b.y1 }, { x: b.x2, y: b.y1 }, { x: b.x2, y: b.y2 }, { x: b.x1, y: b.y2 }], true, "#ffa94d");
  }
}
