/**
 * Canvas 2D drawing, on demand only. Three layers, composed into one visible canvas:
 * the image, a cached bitmap of every unselected shape, and an overlay (the selection, its
 * handles, the tool's drawing). While a pan or zoom is under way the cached shape bitmap is
 * moved and scaled as a picture; once the gesture rests it is redrawn crisp, and only the
 * shapes in view are drawn. The crisp redraw goes into a back buffer in time-boxed slices (a few
 * ms a frame, lod.ts) and replaces the shown layer when complete, so no frame blocks for long with
 * many shapes in view; with a few hundred shapes it completes in the frame that starts it.
 * The image is drawn from the smallest of its levels (imagelevels.ts) that is sharp at the zoom.
 */
import { boxCorners, geometryBounds, handlesOf } from "./geometry";
import type { ImageLevels } from "./imagelevels";
import { drawnAsDot, nextChunk, OPEN_BUDGET_MS, OPEN_FIRST_CHUNK, SLICE_BUDGET_MS } from "./lod";
import type { Annotation, Geometry, Pt } from "./model";
import { decodeMask } from "./rle";
import type { SpatialIndex } from "./spatial";
import { Viewport } from "./viewport";

export interface Scene {
  viewport: Viewport;
  imageWidth: number;
  imageHeight: number;
  image: ImageLevels | null;
  index: SpatialIndex;
  get(key: string): Annotation | undefined;
  z(key: string): number;
  color(label: string): string;
  hidden: Set<string>;
  selected: Set<string>;
  hovered: string | null;
  /** Geometry being dragged, shown instead of the stored one. */
  drafts: Map<string, Geometry>;
  /** A mask being painted, which the brush draws itself. */
  painting: string | null;
  /** Keys of the objects a reviewer raised an issue on. */
  issues: Set<string>;
  /** The tool's own drawing (a box being dragged, a polygon's points). */
  drawTool(ctx: CanvasRenderingContext2D, viewport: Viewport): void;
}

const BACKGROUND = "#16181d";
const GESTURE_REST_MS = 140;
const ISSUE_COLOR = "#ff4d4f";


/** What the last complete crisp redraw of the shape layer cost. */
export interface ShapeLayerCost {
  /** Drawing time summed over its slices (ms). */
  workMs: number;
  /** From its first slice to the frame that showed it (ms). */
  wallMs: number;
  /** The longest slice (ms): what one frame spent on it at most. */
  maxSliceMs: number;
  slices: number;
  shapes: number;
}

interface CrispJob {
  view: Viewport;
  version: number;
  keys: string[];
  next: number;
  chunk: number;
  started: number;
  workMs: number;
  maxSliceMs: number;
  slices: number;
  colors: Map<string, { stroke: string; fill: string }>;
}

export class Renderer {
  readonly canvas: HTMLCanvasElement;
  private readonly ctx: CanvasRenderingContext2D;
  /** The shape layer on screen, drawn for `cacheView`. */
  private shapes: HTMLCanvasElement;
  /** The crisp layer being drawn, slice by slice. */
  private back: HTMLCanvasElement;
  /** Copying a pixel of the back buffer into it makes the browser rasterise each slice in its own frame. */
  private readonly sink: CanvasRenderingContext2D;
  private cacheView: Viewport | null = null;
  private cacheValid = false;
  /** How many shapes the shown layer holds: none (an item opening) means no frame has shapes to keep moving. */
  private shownShapes = 0;
  private version = 0;
  private job: CrispJob | null = null;
  private frame = 0;
  private gestureTimer: number | null = null;
  private gesture = false;
  private width = 0;
  private height = 0;
  private dpr = 1;
  private readonly masks = new Map<string, { source: unknown; canvas: HTMLCanvasElement; data: Uint8Array }>();
  /** The last crisp redraw of the shape layer: its drawing time summed over slices, in ms (for the benchmark and the curious). */
  lastShapeDrawMs = 0;
  lastShapeLayer: ShapeLayerCost = { workMs: 0, wallMs: 0, maxSliceMs: 0, slices: 0, shapes: 0 };
  /** Called after each drawn frame with its rAF timestamp and the time the drawing took (ms). */
  onFrame: ((time: number, drawMs: number) => void) | null = null;
  private settledWaiters: (() => void)[] = [];

  constructor(
    private readonly host: HTMLElement,
    private readonly scene: Scene,
  ) {
    this.canvas = document.createElement("canvas");
    this.canvas.className = "studio-canvas";
    this.canvas.setAttribute("aria-hidden", "true");
    host.append(this.canvas);
    this.ctx = this.canvas.getContext("2d")!;
    this.shapes = document.createElement("canvas");
    this.back = document.createElement("canvas");
    // Big enough to be GPU-backed where the back buffer is (Chromium keeps tiny canvases in
    // software), so the copy never reads the back buffer back from the GPU.
    const sink = document.createElement("canvas");
    sink.width = sink.height = 256;
    this.sink = sink.getContext("2d")!;
    new ResizeObserver(() => this.resize()).observe(host);
    this.resize();
  }

  get viewWidth(): number {
    return this.width;
  }

  get viewHeight(): number {
    return this.height;
  }

  private resize(): void {
    const rect = this.host.getBoundingClientRect();
    this.dpr = window.devicePixelRatio || 1;
    this.width = Math.max(1, Math.floor(rect.width));
    this.height = Math.max(1, Math.floor(rect.height));
    for (const canvas of [this.canvas, this.shapes, this.back]) {
      canvas.width = Math.round(this.width * this.dpr);
      canvas.height = Math.round(this.height * this.dpr);
    }
    this.canvas.style.width = `${this.width}px`;
    this.canvas.style.height = `${this.height}px`;
    this.cacheView = null;
    this.shownShapes = 0;
    this.job = null;
    this.invalidateShapes();
  }

  /** Shapes changed: the cached layer must be redrawn at the next frame. */
  invalidateShapes(): void {
    this.cacheValid = false;
    this.version++;
    this.request();
  }

  /** The view moved as part of a continuous gesture: move the cached bitmap until it rests. */
  gestureStep(): void {
    this.gesture = true;
    if (this.gestureTimer !== null) window.clearTimeout(this.gestureTimer);
    this.gestureTimer = window.setTimeout(() => {
      this.gesture = false;
      this.gestureTimer = null;
      this.request();
    }, GESTURE_REST_MS);
    this.request();
  }

  request(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame((time) => {
      this.frame = 0;
      const started = performance.now();
      this.draw();
      this.onFrame?.(time, performance.now() - started);
      if (this.settledWaiters.length && this.settled) for (const resolve of this.settledWaiters.splice(0)) resolve();
    });
  }

  /** Whether the last frame showed every shape in view, crisp, for the current view. */
  get settled(): boolean {
    return this.cacheValid && !this.job && !!this.cacheView && this.cacheView.equals(this.scene.viewport);
  }

  /** Resolves after the first frame that shows the shape layer complete and crisp. */
  whenSettled(): Promise<void> {
    return new Promise((resolve) => {
      this.settledWaiters.push(resolve);
      this.request();
    });
  }

  forgetMask(key: string): void {
    this.masks.delete(key);
  }

  /** Whether the mask of `key` covers image pixel (x, y). */
  maskHit(key: string, x: number, y: number): boolean {
    const a = this.scene.get(key);
    if (!a || a.geometry.kind !== "binary") return false;
    const entry = this.maskOf(key, a.geometry);
    const [height, width] = a.geometry.mask.size;
    return !!entry && x >= 0 && y >= 0 && x < width && y < height && entry.data[y * width + x] === 1;
  }

  private draw(): void {
    const { ctx, scene } = this;
    const vp = scene.viewport;
    ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    ctx.fillStyle = BACKGROUND;
    ctx.fillRect(0, 0, this.width, this.height);
    const level = scene.image?.pick(scene.imageWidth * vp.scale * this.dpr);
    if (level) {
      // Past 2x, pixels are shown as squares so that edges can be placed precisely.
      ctx.imageSmoothingEnabled = vp.scale < 2;
      ctx.drawImage(level.source, vp.x, vp.y, scene.imageWidth * vp.scale, scene.imageHeight * vp.scale);
    }
    this.updateShapeLayer(vp);
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    if (this.cacheView && !this.cacheView.equals(vp)) {
      const k = vp.scale / this.cacheView.scale;
      ctx.imageSmoothingEnabled = true;
      ctx.drawImage(this.shapes, (vp.x - this.cacheView.x * k) * this.dpr, (vp.y - this.cacheView.y * k) * this.dpr, this.shapes.width * k, this.shapes.height * k);
    } else if (this.cacheView) {
      ctx.drawImage(this.shapes, 0, 0);
    }
    ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    this.drawOverlay();
  }

  /** Starts, continues or drops the crisp redraw; shows it once complete. */
  private updateShapeLayer(vp: Viewport): void {
    const moved = !this.cacheView || !this.cacheView.equals(vp);
    if (this.cacheValid && !moved) {
      this.job = null;
      return;
    }
    if (this.cacheValid && this.gesture) {
      this.job = null; // the view is still moving: the picture of the layer follows it
      return;
    }
    // Shapes changed since the job began, or the view came to rest elsewhere: start again. While a
    // gesture goes on an invalid layer is still finished for the view it began at, then moved.
    if (this.job && (this.job.version !== this.version || (!this.gesture && !this.job.view.equals(vp)))) this.job = null;
    if (!this.job) {
      this.job = this.startJob(vp);
      // Finding and ordering the shapes in view is a slice of its own, unless nothing is shown yet.
      if (!this.opening) {
        this.request();
        return;
      }
    }
    const job = this.job;
    this.slice(job);
    if (job.next < job.keys.length) {
      this.request();
      return;
    }
    [this.shapes, this.back] = [this.back, this.shapes];
    this.cacheView = job.view;
    this.shownShapes = job.keys.length;
    this.cacheValid = true;
    this.job = null;
    this.lastShapeDrawMs = job.workMs;
    this.lastShapeLayer = { workMs: job.workMs, wallMs: performance.now() - job.started, maxSliceMs: job.maxSliceMs, slices: job.slices, shapes: job.keys.length };
  }

  /** Nothing on screen yet (an item opening): slices may be longer, there is no motion to keep smooth. */
  private get opening(): boolean {
    return !this.cacheView || this.shownShapes === 0;
  }

  private startJob(vp: Viewport): CrispJob {
    const started = performance.now();
    const { scene } = this;
    const keys = scene.index
      .search(vp.visibleBounds(this.width, this.height))
      .filter((key) => !scene.hidden.has(key) && !scene.selected.has(key) && !scene.drafts.has(key) && key !== scene.painting);
    keys.sort((a, b) => scene.z(a) - scene.z(b));
    const ctx = this.back.getContext("2d")!;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, this.back.width, this.back.height);
    const job: CrispJob = { view: vp.clone(), version: this.version, keys, next: 0, chunk: this.opening ? OPEN_FIRST_CHUNK : nextChunk(0, 0), started, workMs: 0, maxSliceMs: 0, slices: 1, colors: new Map() };
    job.workMs = job.maxSliceMs = performance.now() - started;
    return job;
  }

  /** Draws the next chunk of the job into the back buffer, sized to the slice budget. */
  private slice(job: CrispJob): void {
    const started = performance.now();
    const { scene } = this;
    const vp = job.view;
    const ctx = this.back.getContext("2d")!;
    ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    // A path per shape: Skia fills and strokes thousands of small paths far faster than one path
    // with thousands of subpaths (measured: 10,000 octagons ~75 ms against ~1 s). Miter joins are
    // cheaper than round ones and look the same on these small angles.
    ctx.lineJoin = "miter";
    ctx.lineWidth = 2;
    const end = Math.min(job.keys.length, job.next + job.chunk);
    let current = "";
    for (let i = job.next; i < end; i++) {
      const a = scene.get(job.keys[i]);
      if (!a) continue;
      if (a.geometry.kind === "binary") {
        this.drawMask(ctx, a, vp, 0.55);
        continue;
      }
      let colors = job.colors.get(a.label);
      if (!colors) {
        const stroke = scene.color(a.label);
        job.colors.set(a.label, (colors = { stroke, fill: withAlpha(stroke, 0.22) }));
      }
      if (a.geometry.kind !== "point") {
        const b = geometryBounds(a.geometry);
        if (!b) continue;
        if (drawnAsDot(b.maxX - b.minX, b.maxY - b.minY, vp.scale)) {
          ctx.fillStyle = colors.stroke; // smaller than a pixel or two: a dot says as much
          ctx.fillRect(b.minX * vp.scale + vp.x, b.minY * vp.scale + vp.y, 2, 2);
          current = "";
          continue;
        }
      }
      if (current !== colors.stroke) {
        current = colors.stroke;
        ctx.fillStyle = colors.fill;
        ctx.strokeStyle = colors.stroke;
      }
      ctx.beginPath();
      this.tracePath(ctx, a.geometry, vp);
      if (a.type !== "polyline") ctx.fill("evenodd");
      ctx.stroke();
    }
    const count = end - job.next;
    job.next = end;
    // Rasterise now, in this frame, rather than all at once when the layer is first shown.
    this.sink.drawImage(this.back, 0, 0, 1, 1, 0, 0, 1, 1);
    const ms = performance.now() - started;
    job.workMs += ms;
    job.maxSliceMs = Math.max(job.maxSliceMs, ms);
    job.slices++;
    // Before anything is on screen a longer first slice shows a typical item in one frame.
    job.chunk = nextChunk(count, ms, this.opening ? OPEN_BUDGET_MS : SLICE_BUDGET_MS);
  }

  /** Adds the shape's outline to `path`, in screen pixels (so line widths stay constant). */
  private tracePath(path: CanvasPath, g: Geometry, vp: Viewport): void {
    const sx = (x: number) => x * vp.scale + vp.x;
    const sy = (y: number) => y * vp.scale + vp.y;
    const polyline = (points: Pt[], close: boolean) => {
      if (!points.length) return;
      path.moveTo(sx(points[0].x), sy(points[0].y));
      for (let i = 1; i < points.length; i++) path.lineTo(sx(points[i].x), sy(points[i].y));
      if (close) path.closePath();
    };
    switch (g.kind) {
      case "box":
        polyline(boxCorners(g), true);
        break;
      case "segment":
        for (const ring of g.rings) polyline(ring, true);
        break;
      case "polyline":
        for (const line of g.lines) polyline(line, false);
        break;
      case "point":
        path.moveTo(sx(g.p.x) + 5, sy(g.p.y));
        path.arc(sx(g.p.x), sy(g.p.y), 5, 0, Math.PI * 2);
        break;
      case "ellipse":
        path.moveTo(sx(g.cx) + g.rx * vp.scale * Math.cos((g.angle * Math.PI) / 180), sy(g.cy) + g.rx * vp.scale * Math.sin((g.angle * Math.PI) / 180));
        path.ellipse(sx(g.cx), sy(g.cy), Math.max(0, g.rx * vp.scale), Math.max(0, g.ry * vp.scale), (g.angle * Math.PI) / 180, 0, Math.PI * 2);
        break;
      case "note": {
        const raw = g.raw as { box?: { x: number; y: number }[] } | null;
        const box = raw?.box;
        if (Array.isArray(box) && box.length >= 2) polyline([box[0], { x: box[1].x, y: box[0].y }, box[1], { x: box[0].x, y: box[1].y }], true);
        break;
      }
      default:
        break;
    }
  }

  private maskOf(key: string, g: Extract<Geometry, { kind: "binary" }>) {
    const cached = this.masks.get(key);
    if (cached && cached.source === g.mask) return cached;
    let data: Uint8Array;
    try {
      data = decodeMask(g.mask);
    } catch {
      return null;
    }
    const [height, width] = g.mask.size;
    const canvas = document.createElement("canvas");
    canvas.width = width;
    canvas.height = height;
    const label = this.scene.get(key)?.label ?? "";
    const [r, gr, b] = rgb(this.scene.color(label));
    const pixels = new ImageData(width, height);
    for (let i = 0; i < data.length; i++) {
      if (!data[i]) continue;
      const o = i * 4;
      pixels.data[o] = r;
      pixels.data[o + 1] = gr;
      pixels.data[o + 2] = b;
      pixels.data[o + 3] = 255;
    }
    canvas.getContext("2d")!.putImageData(pixels, 0, 0);
    const entry = { source: g.mask, canvas, data };
    this.masks.set(key, entry);
    return entry;
  }

  /** Objects a reviewer raised an issue on: a dashed ring just outside, above everything, so they
   * are found at a glance even when selected. Few by nature, so drawn on every frame. */
  private drawIssues(ctx: CanvasRenderingContext2D, vp: Viewport): void {
    const path = new Path2D();
    let any = false;
    for (const key of this.scene.issues) {
      const a = this.scene.get(key);
      if (a?.geometry.kind === "note" && !a.parentId && !this.scene.hidden.has(key)) this.drawPin(ctx, a.geometry.raw, vp);
      if (!a || this.scene.hidden.has(key) || a.geometry.kind === "note" || a.geometry.kind === "class") continue;
      const geometry = this.scene.drafts.get(key) ?? a.geometry;
      const b = geometryBounds(geometry);
      if (!b) continue;
      const pad = 6 / vp.scale;
      this.tracePath(path, { kind: "box", x1: b.minX - pad, y1: b.minY - pad, x2: b.maxX + pad, y2: b.maxY + pad, angle: 0 }, vp);
      any = true;
    }
    if (!any) return;
    ctx.save();
    ctx.lineJoin = "round";
    ctx.lineWidth = 4;
    ctx.strokeStyle = "rgba(0, 0, 0, 0.6)";
    ctx.stroke(path);
    ctx.setLineDash([9, 6]);
    ctx.lineWidth = 2.5;
    ctx.strokeStyle = ISSUE_COLOR;
    ctx.stroke(path);
    ctx.restore();
  }

  /** A reviewer's note for a missing object: a map pin standing on the top edge of its box. */
  private drawPin(ctx: CanvasRenderingContext2D, raw: unknown, vp: Viewport): void {
    const box = (raw as { box?: Pt[] } | null)?.box;
    if (!Array.isArray(box) || box.length < 2) return;
    const tip = vp.toScreen({ x: (box[0].x + box[1].x) / 2, y: Math.min(box[0].y, box[1].y) });
    const r = 8;
    const cy = tip.y - r - 9;
    ctx.save();
    ctx.beginPath();
    ctx.moveTo(tip.x, tip.y);
    ctx.arc(tip.x, cy, r, Math.PI * 0.75, Math.PI * 0.25);
    ctx.closePath();
    ctx.fillStyle = ISSUE_COLOR;
    ctx.strokeStyle = "rgba(0, 0, 0, 0.7)";
    ctx.lineWidth = 1.5;
    ctx.fill();
    ctx.stroke();
    ctx.beginPath();
    ctx.arc(tip.x, cy, 3, 0, Math.PI * 2);
    ctx.fillStyle = "#fff";
    ctx.fill();
    ctx.restore();
  }

  private drawMask(ctx: CanvasRenderingContext2D, a: Annotation, vp: Viewport, alpha: number): void {
    if (a.geometry.kind !== "binary") return;
    const entry = this.maskOf(a.key, a.geometry);
    if (!entry) return;
    ctx.save();
    ctx.globalAlpha = alpha;
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(entry.canvas, vp.x, vp.y, entry.canvas.width * vp.scale, entry.canvas.height * vp.scale);
    ctx.restore();
  }

  private drawOverlay(): void {
    const { ctx, scene } = this;
    const vp = scene.viewport;
    this.drawIssues(ctx, vp);
    const keys = new Set<string>([...scene.selected, ...scene.drafts.keys()]);
    for (const key of keys) {
      const a = scene.get(key);
      if (!a || scene.hidden.has(key) || key === scene.painting) continue;
      const geometry = scene.drafts.get(key) ?? a.geometry;
      const color = scene.color(a.label);
      if (geometry.kind === "binary") {
        this.drawMask(ctx, a, vp, 0.75);
        const b = geometryBounds(geometry);
        if (b) this.dashedBounds(b, vp);
        continue;
      }
      const path = new Path2D();
      this.tracePath(path, geometry, vp);
      if (a.type !== "polyline") {
        ctx.fillStyle = withAlpha(color, 0.35);
        ctx.fill(path, "evenodd");
      }
      ctx.lineJoin = "round";
      ctx.strokeStyle = "#000";
      ctx.lineWidth = 4;
      ctx.stroke(path);
      ctx.strokeStyle = color;
      ctx.lineWidth = 2;
      ctx.stroke(path);
      if (scene.selected.size === 1) this.drawHandles(geometry, vp);
      this.drawTag(a.label, color, geometry, vp);
    }
    if (scene.hovered && !scene.selected.has(scene.hovered) && !scene.hidden.has(scene.hovered)) {
      const a = scene.get(scene.hovered);
      if (a && a.geometry.kind !== "binary") {
        const path = new Path2D();
        this.tracePath(path, a.geometry, vp);
        ctx.strokeStyle = "#ffffff";
        ctx.lineWidth = 1;
        ctx.setLineDash([4, 3]);
        ctx.stroke(path);
        ctx.setLineDash([]);
      }
    }
    scene.drawTool(ctx, vp);
  }

  private dashedBounds(b: { minX: number; minY: number; maxX: number; maxY: number }, vp: Viewport): void {
    const { ctx } = this;
    ctx.strokeStyle = "#ffffff";
    ctx.lineWidth = 1;
    ctx.setLineDash([5, 4]);
    ctx.strokeRect(b.minX * vp.scale + vp.x, b.minY * vp.scale + vp.y, (b.maxX - b.minX) * vp.scale, (b.maxY - b.minY) * vp.scale);
    ctx.setLineDash([]);
  }

  private drawHandles(g: Geometry, vp: Viewport): void {
    const { ctx } = this;
    for (const handle of handlesOf(g)) {
      const p = vp.toScreen(handle.p);
      ctx.fillStyle = "#ffffff";
      ctx.strokeStyle = "#111";
      ctx.lineWidth = 1;
      ctx.fillRect(p.x - 4, p.y - 4, 8, 8);
      ctx.strokeRect(p.x - 4, p.y - 4, 8, 8);
    }
  }

  private drawTag(text: string, color: string, g: Geometry, vp: Viewport): void {
    const b = geometryBounds(g);
    if (!b) return;
    const { ctx } = this;
    const p = vp.toScreen({ x: b.minX, y: b.minY });
    ctx.font = "600 12px system-ui, sans-serif";
    const width = ctx.measureText(text).width + 10;
    const y = p.y - 20 < 0 ? p.y + 2 : p.y - 20;
    ctx.fillStyle = color;
    ctx.fillRect(p.x, y, width, 18);
    ctx.fillStyle = contrastText(color);
    ctx.fillText(text, p.x + 5, y + 13);
  }
}

export function rgb(color: string): [number, number, number] {
  let text = color.replace("#", "");
  if (text.length === 3) text = [...text].map((c) => c + c).join("");
  const value = parseInt(text, 16);
  return Number.isNaN(value) || text.length !== 6 ? [200, 200, 200] : [(value >> 16) & 255, (value >> 8) & 255, value & 255];
}

export function withAlpha(color: string, alpha: number): string {
  const [r, g, b] = rgb(color);
  return `rgba(${r}, ${g}, ${b}, ${alpha})`;
}

/** Black or white, whichever reads better on `color`. */
export function contrastText(color: string): string {
  const [r, g, b] = rgb(color);
  return 0.299 * r + 0.587 * g + 0.114 * b > 150 ? "#111" : "#fff";
}
