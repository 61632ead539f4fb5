/**
 * Select and edit: click to select (Shift adds or removes), drag a marquee over empty canvas,
 * drag the selection to move it, drag a handle to resize a box or move a vertex.
 * Alt+click on a selected polygon's edge inserts a vertex; Alt+click on a vertex removes it.
 * A selected box or ellipse has a round handle above it: drag it to rotate about the centre
 * (Shift snaps to 15°), or press , and . to turn by 15° (Shift: 1°).
 * Every drag is one undoable change, made when the button is released.
 */
import { angleTowards, clampDelta, distanceToSegment, dragHandle, geometryBounds, handlesOf, isRotatable, rotationHandle, translateGeometry, clampPoint, withAngle, type Bounds, type Handle } from "../geometry";
import { Mode, type Annotation, type Geometry, type Pt } from "../model";
import type { Change } from "../store";
import type { Viewport } from "../viewport";
import type { Tool, ToolHost, ToolPointer } from "./tool";

const HANDLE_PX = 7;
/** How far above the top edge the rotation handle sits, in screen pixels. */
const ROTATE_PX = 28;

type Drag =
  | { kind: "move"; from: Pt; originals: Map<string, Annotation>; bounds: Bounds; moved: boolean }
  | { kind: "handle"; key: string; handle: Handle; original: Annotation; moved: boolean }
  | { kind: "rotate"; key: string; original: Annotation; moved: boolean }
  | { kind: "marquee"; from: Pt; to: Pt; additive: boolean };

export class SelectTool implements Tool {
  readonly mode = Mode.Select;
  private drag: Drag | null = null;

  constructor(private readonly host: ToolHost) {}

  get busy(): boolean {
    return this.drag !== null;
  }

  activate(): void {
    this.host.setCursor("default");
  }

  cancel(): void {
    if (this.drag && this.drag.kind !== "marquee") {
      this.host.drafts.clear();
      this.host.redrawShapes();
    }
    this.drag = null;
    this.host.redraw();
  }

  private single(): Annotation | null {
    if (this.host.selected.size !== 1) return null;
    const [key] = this.host.selected;
    return this.host.store.get(key) ?? null;
  }

  private onRotationHandle(a: Annotation, screen: Pt): boolean {
    if (!isRotatable(a.geometry)) return false;
    const s = this.host.viewport.toScreen(rotationHandle(a.geometry, ROTATE_PX / this.host.viewport.scale).handle);
    return Math.hypot(s.x - screen.x, s.y - screen.y) <= HANDLE_PX + 1;
  }

  private handleAt(a: Annotation, screen: Pt): Handle | null {
    const viewport = this.host.viewport;
    for (const handle of handlesOf(a.geometry)) {
      const s = viewport.toScreen(handle.p);
      if (Math.abs(s.x - screen.x) <= HANDLE_PX && Math.abs(s.y - screen.y) <= HANDLE_PX) return handle;
    }
    return null;
  }

  pointerDown(p: ToolPointer): void {
    if (p.button !== 0) return;
    const one = this.single();
    const editable = one && this.host.canEdit && !this.host.isLocked(one.key);
    if (editable && one) {
      if (this.onRotationHandle(one, p.screen)) {
        this.drag = { kind: "rotate", key: one.key, original: one, moved: false };
        return;
      }
      const handle = this.handleAt(one, p.screen);
      if (handle && p.alt) {
        this.removeVertex(one, handle);
        return;
      }
      if (p.alt && this.insertVertex(one, p)) return;
      if (handle) {
        this.drag = { kind: "handle", key: one.key, handle, original: one, moved: false };
        return;
      }
    }
    const key = this.host.hitTest(p.image);
    if (!key) {
      this.drag = { kind: "marquee", from: p.image, to: p.image, additive: p.shift };
      if (!p.shift) this.host.select([]);
      return;
    }
    if (p.shift) {
      const next = new Set(this.host.selected);
      if (next.has(key)) next.delete(key);
      else next.add(key);
      this.host.select(next);
      return;
    }
    if (!this.host.selected.has(key)) this.host.select([key]);
    if (!this.host.canEdit) return;
    const originals = new Map<string, Annotation>();
    let bounds: Bounds | null = null;
    for (const k of this.host.selected) {
      const a = this.host.store.get(k);
      const b = a && geometryBounds(a.geometry);
      if (!a || !b || this.host.isLocked(k)) continue;
      originals.set(k, a);
      bounds = bounds ? { minX: Math.min(bounds.minX, b.minX), minY: Math.min(bounds.minY, b.minY), maxX: Math.max(bounds.maxX, b.maxX), maxY: Math.max(bounds.maxY, b.maxY) } : b;
    }
    if (bounds) this.drag = { kind: "move", from: p.image, originals, bounds, moved: false };
  }

  pointerMove(p: ToolPointer): void {
    const drag = this.drag;
    if (!drag) {
      const one = this.single();
      const editable = one && this.host.canEdit && !this.host.isLocked(one.key);
      const overRotate = editable && this.onRotationHandle(one, p.screen);
      const overHandle = editable && this.handleAt(one, p.screen);
      this.host.setCursor(overRotate ? "grab" : overHandle ? "crosshair" : this.host.hitTest(p.image) ? "move" : "default");
      return;
    }
    if (drag.kind === "marquee") {
      drag.to = p.image;
    } else if (drag.kind === "move") {
      const delta = clampDelta(drag.bounds, p.image.x - drag.from.x, p.image.y - drag.from.y, this.host.imageWidth, this.host.imageHeight);
      drag.moved ||= delta.dx !== 0 || delta.dy !== 0;
      for (const [key, a] of drag.originals) this.host.drafts.set(key, translateGeometry(a.geometry, delta.dx, delta.dy));
    } else if (drag.kind === "rotate") {
      const g = drag.original.geometry;
      if (!isRotatable(g)) return;
      const angle = angleTowards(rotationHandle(g, 0).centre, p.image, p.shift ? 15 : 0);
      drag.moved ||= angle !== g.angle;
      this.host.drafts.set(drag.key, withAngle(g, angle));
      this.host.setCursor("grabbing");
    } else {
      drag.moved = true;
      const to = clampPoint(p.image, this.host.imageWidth, this.host.imageHeight);
      this.host.drafts.set(drag.key, dragHandle(drag.original.geometry, drag.handle, to));
    }
    this.host.redraw();
  }

  pointerUp(): void {
    const drag = this.drag;
    this.drag = null;
    if (!drag) return;
    if (drag.kind === "marquee") {
      const b = { minX: Math.min(drag.from.x, drag.to.x), minY: Math.min(drag.from.y, drag.to.y), maxX: Math.max(drag.from.x, drag.to.x), maxY: Math.max(drag.from.y, drag.to.y) };
      if ((b.maxX - b.minX) * this.host.viewport.scale > 3 || (b.maxY - b.minY) * this.host.viewport.scale > 3) {
        const keys = this.host.inside(b);
        this.host.select(drag.additive ? [...this.host.selected, ...keys] : keys);
      }
      this.host.redraw();
      return;
    }
    const changes: Change[] = [];
    if (drag.moved) {
      for (const [key, geometry] of this.host.drafts) {
        const before = this.host.store.get(key);
        if (before) changes.push({ key, before, after: { ...before, geometry } });
      }
    }
    this.host.drafts.clear();
    if (changes.length) this.host.store.apply({ source: "local", label: drag.kind === "move" ? "Move" : drag.kind === "rotate" ? "Rotate" : "Reshape", changes });
    this.host.redraw();
  }

  private removeVertex(a: Annotation, handle: Handle): void {
    if (handle.kind !== "vertex") return;
    const g = a.geometry;
    const paths = g.kind === "segment" ? g.rings : g.kind === "polyline" ? g.lines : null;
    if (!paths) return;
    const min = g.kind === "segment" ? 3 : 2;
    if (paths[handle.ring].length <= min) {
      this.host.announce(`A ${g.kind === "segment" ? "polygon" : "polyline"} keeps at least ${min} points.`);
      return;
    }
    const next = paths.map((path, r) => (r === handle.ring ? path.filter((_, i) => i !== handle.index) : path));
    const geometry: Geometry = g.kind === "segment" ? { kind: "segment", rings: next } : { kind: "polyline", lines: next };
    this.host.store.update({ ...a, geometry }, "Remove point");
  }

  private insertVertex(a: Annotation, p: ToolPointer): boolean {
    const g = a.geometry;
    const paths = g.kind === "segment" ? g.rings : g.kind === "polyline" ? g.lines : null;
    if (!paths) return false;
    const tolerance = HANDLE_PX / this.host.viewport.scale;
    for (let r = 0; r < paths.length; r++) {
      const path = paths[r];
      const edges = g.kind === "segment" ? path.length : path.length - 1;
      for (let i = 0; i < edges; i++) {
        if (distanceToSegment(p.image, path[i], path[(i + 1) % path.length]) > tolerance) continue;
        const next = paths.map((q, ri) => (ri === r ? [...q.slice(0, i + 1), { ...p.image }, ...q.slice(i + 1)] : q));
        const geometry: Geometry = g.kind === "segment" ? { kind: "segment", rings: next } : { kind: "polyline", lines: next };
        this.host.store.update({ ...a, geometry }, "Add point");
        return true;
      }
    }
    return false;
  }

  keyDown(event: KeyboardEvent): boolean {
    if (!this.host.selected.size || !this.host.canEdit) return false;
    const editable = [...this.host.selected].filter((k) => !this.host.isLocked(k));
    if (event.key === "Delete" || event.key === "Backspace") {
      this.host.store.remove(editable, editable.length > 1 ? `Delete ${editable.length} objects` : "Delete");
      this.host.select([]);
      return true;
    }
    if (event.key === "," || event.key === "." || event.key === "<" || event.key === ">") {
      const turn = (event.key === "," || event.key === "<" ? -1 : 1) * (event.shiftKey ? 1 : 15);
      const changes: Change[] = [];
      for (const key of editable) {
        const a = this.host.store.get(key);
        if (a && isRotatable(a.geometry)) changes.push({ key, before: a, after: { ...a, geometry: withAngle(a.geometry, a.geometry.angle + turn) } });
      }
      if (changes.length) this.host.store.apply({ source: "local", label: "Rotate", changes });
      return changes.length > 0;
    }
    const arrows: Record<string, [number, number]> = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
    const step = arrows[event.key];
    if (!step) return false;
    const distance = event.shiftKey ? 10 : 1;
    const changes: Change[] = [];
    for (const key of editable) {
      const a = this.host.store.get(key);
      const b = a && geometryBounds(a.geometry);
      if (!a || !b) continue;
      const delta = clampDelta(b, step[0] * distance, step[1] * distance, this.host.imageWidth, this.host.imageHeight);
      changes.push({ key, before: a, after: { ...a, geometry: translateGeometry(a.geometry, delta.dx, delta.dy) } });
    }
    if (changes.length) this.host.store.apply({ source: "local", label: "Nudge", changes });
    return true;
  }

  drawOverlay(ctx: CanvasRenderingContext2D, viewport: Viewport): void {
    this.drawRotationHandle(ctx, viewport);
    if (this.drag?.kind !== "marquee") return;
    const a = viewport.toScreen(this.drag.from), b = viewport.toScreen(this.drag.to);
    ctx.fillStyle = "rgba(116, 192, 252, 0.12)";
    ctx.fillRect(Math.min(a.x, b.x), Math.min(a.y, b.y), Math.abs(b.x - a.x), Math.abs(b.y - a.y));
    ctx.strokeStyle = "#74c0fc";
    ctx.lineWidth = 1;
    ctx.setLineDash([4, 3]);
    ctx.strokeRect(Math.min(a.x, b.x), Math.min(a.y, b.y), Math.abs(b.x - a.x), Math.abs(b.y - a.y));
    ctx.setLineDash([]);
  }

  private drawRotationHandle(ctx: CanvasRenderingContext2D, viewport: Viewport): void {
    const one = this.single();
    if (!one || !this.host.canEdit || this.host.isLocked(one.key) || (this.drag && this.drag.kind !== "rotate")) return;
    const g = this.host.drafts.get(one.key) ?? one.geometry;
    if (!isRotatable(g)) return;
    const { edge, handle } = rotationHandle(g, ROTATE_PX / viewport.scale);
    const a = viewport.toScreen(edge), b = viewport.toScreen(handle);
    ctx.strokeStyle = "#ffffff";
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(a.x, a.y);
    ctx.lineTo(b.x, b.y);
    ctx.stroke();
    ctx.fillStyle = "#ffffff";
    ctx.strokeStyle = "#111";
    ctx.beginPath();
    ctx.arc(b.x, b.y, 5, 0, Math.PI * 2);
    ctx.fill();
    ctx.stroke();
  }
}
