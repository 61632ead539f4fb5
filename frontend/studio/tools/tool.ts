/** What every tool shares: activation, pointer and key events, cancel, and its own overlay. */
import type { Bounds } from "../geometry";
import type { Annotation, Geometry, Mode, Pt } from "../model";
import type { AnnotationStore } from "../store";
import type { Viewport } from "../viewport";

export interface ToolPointer {
  /** Image pixels, not clamped. */
  image: Pt;
  screen: Pt;
  shift: boolean;
  alt: boolean;
  button: number;
}

/** The studio's side of a tool: what a tool may read and do. */
export interface ToolHost {
  readonly store: AnnotationStore;
  readonly viewport: Viewport;
  readonly imageWidth: number;
  readonly imageHeight: number;
  readonly selected: Set<string>;
  readonly drafts: Map<string, Geometry>;
  readonly canEdit: boolean;
  /** Draw a new shape with the active label; returns false (and says why) when it cannot. */
  create(geometry: Geometry): Annotation | null;
  hitTest(p: Pt, toleranceScreenPx?: number): string | null;
  inside(b: Bounds): string[];
  select(keys: Iterable<string>): void;
  isLocked(key: string): boolean;
  setCursor(cursor: string): void;
  /** The overlay changed (a preview, the hover). */
  redraw(): void;
  /** Drafts were added or removed: the cached shape layer must change. */
  redrawShapes(): void;
  announce(message: string): void;
  activeLabelTag(): string | null;
  colorOf(label: string): string;
  /** The mask being painted is drawn by the tool, not by the renderer. */
  setPainting(key: string | null): void;
}

export interface Tool {
  readonly mode: Mode;
  activate(): void;
  /** Stop whatever is half done (Escape, or another tool chosen). */
  cancel(): void;
  pointerDown(p: ToolPointer): void;
  pointerMove(p: ToolPointer): void;
  pointerUp(p: ToolPointer): void;
  /** True when the tool used the key. */
  keyDown(event: KeyboardEvent): boolean;
  drawOverlay(ctx: CanvasRenderingContext2D, viewport: Viewport): void;
  /** Whether something is half drawn, so that Escape means "cancel" rather than "deselect". */
  readonly busy: boolean;
}

export function strokeScreenPath(ctx: CanvasRenderingContext2D, viewport: Viewport, points: Pt[], close: boolean, color: string): void {
  if (!points.length) return;
  ctx.beginPath();
  const first = viewport.toScreen(points[0]);
  ctx.moveTo(first.x, first.y);
  for (const p of points.slice(1)) {
    const s = viewport.toScreen(p);
    ctx.lineTo(s.x, s.y);
  }
  if (close) ctx.closePath();
  ctx.lineJoin = "round";
  ctx.strokeStyle = "#000";
  ctx.lineWidth = 4;
  ctx.stroke();
  ctx.strokeStyle = color;
  ctx.lineWidth = 2;
  ctx.stroke();
}
