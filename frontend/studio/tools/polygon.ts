/**
 * Polygon and polyline: click to add points. A polygon closes on a click on its first point or
 * with Enter; a polyline ends with Enter or a click on its last point. Backspace removes the
 * last point, Escape drops the drawing.
 * Holding the button down and dragging (before the first point) draws freehand instead: the
 * stroke ends where the button is released and is simplified (Ramer-Douglas-Peucker).
 */
import { clampPoint, ringArea, simplifyPath } from "../geometry";
import { Mode, type Pt } from "../model";
import type { Viewport } from "../viewport";
import { strokeScreenPath, type Tool, type ToolHost, type ToolPointer } from "./tool";

const CLOSE_PX = 8;
/** How far (screen pixels) the pointer moves with the button down before a press becomes a freehand stroke. */
const FREEHAND_PX = 6;
/** A freehand stroke keeps the points that stray more than this from a straight run (screen pixels). */
const SIMPLIFY_PX = 1.5;

export class PolygonTool implements Tool {
  private points: Pt[] = [];
  private cursor: Pt | null = null;
  /** The press that may start a freehand stroke, and the stroke once it has. */
  private press: { screen: Pt; image: Pt } | null = null;
  private stroke: Pt[] | null = null;

  constructor(
    private readonly host: ToolHost,
    readonly mode: Mode.Polygon | Mode.Polyline = Mode.Polygon,
  ) {}

  get busy(): boolean {
    return this.points.length > 0 || this.stroke !== null;
  }

  activate(): void {
    this.host.setCursor("crosshair");
  }

  cancel(): void {
    this.points = [];
    this.press = null;
    this.stroke = null;
    this.host.redraw();
  }

  pointerDown(p: ToolPointer): void {
    if (p.button !== 0 || this.points.length) return;
    this.press = { screen: p.screen, image: clampPoint(p.image, this.host.imageWidth, this.host.imageHeight) };
  }

  pointerMove(p: ToolPointer): void {
    this.cursor = clampPoint(p.image, this.host.imageWidth, this.host.imageHeight);
    if (this.press && !this.stroke && Math.hypot(p.screen.x - this.press.screen.x, p.screen.y - this.press.screen.y) >= FREEHAND_PX) {
      this.stroke = [this.press.image];
    }
    if (this.stroke) {
      this.stroke.push(this.cursor);
      this.host.redraw();
      return;
    }
    if (this.points.length) this.host.redraw();
  }

  pointerUp(p: ToolPointer): void {
    if (p.button !== 0) return;
    this.press = null;
    if (this.stroke) {
      const stroke = simplifyPath(this.stroke, SIMPLIFY_PX / this.host.viewport.scale);
      this.stroke = null;
      const [first, last] = [stroke[0], stroke[stroke.length - 1]];
      if (this.mode === Mode.Polygon && stroke.length > 3 && Math.hypot(last.x - first.x, last.y - first.y) * this.host.viewport.scale <= CLOSE_PX) stroke.pop();
      this.points = stroke;
      this.finish();
      this.points = [];
      this.host.redraw();
      return;
    }
    const point = clampPoint(p.image, this.host.imageWidth, this.host.imageHeight);
    const near = (q: Pt) => Math.hypot(q.x - point.x, q.y - point.y) * this.host.viewport.scale <= CLOSE_PX;
    if (this.mode === Mode.Polygon && this.points.length >= 3 && near(this.points[0])) {
      this.finish();
      return;
    }
    if (this.mode === Mode.Polyline && this.points.length >= 2 && near(this.points[this.points.length - 1])) {
      this.finish();
      return;
    }
    if (this.points.length && near(this.points[this.points.length - 1])) return; // a double click
    this.points.push(point);
    this.host.redraw();
  }

  keyDown(event: KeyboardEvent): boolean {
    if (!this.points.length) return false;
    if (event.key === "Enter") {
      this.finish();
      return true;
    }
    if (event.key === "Backspace") {
      this.points.pop();
      this.host.redraw();
      return true;
    }
    return false;
  }

  private finish(): void {
    const points = this.points;
    const enough = this.mode === Mode.Polygon ? points.length >= 3 && ringArea(points) > 0 : points.length >= 2;
    if (!enough) {
      this.host.announce(this.mode === Mode.Polygon ? "A polygon needs at least three points." : "A polyline needs at least two points.");
      return;
    }
    this.points = [];
    if (this.mode === Mode.Polygon) this.host.create({ kind: "segment", rings: [points] });
    else this.host.create({ kind: "polyline", lines: [points] });
    this.host.redraw();
  }

  drawOverlay(ctx: CanvasRenderingContext2D, viewport: Viewport): void {
    if (this.stroke) {
      strokeScreenPath(ctx, viewport, this.stroke, false, "#ffd43b");
      return;
    }
    if (!this.points.length) return;
    const path = this.cursor ? [...this.points, this.cursor] : this.points;
    strokeScreenPath(ctx, viewport, path, false, "#ffd43b");
    this.points.forEach((p, i) => {
      const s = viewport.toScreen(p);
      ctx.fillStyle = i === 0 && this.mode === Mode.Polygon ? "#ffd43b" : "#ffffff";
      ctx.strokeStyle = "#111";
      ctx.lineWidth = 1;
      ctx.beginPath();
      ctx.arc(s.x, s.y, i === 0 ? 5 : 3.5, 0, Math.PI * 2);
      ctx.fill();
      ctx.stroke();
    });
  }
}
