/**
 * The studio: wires the store, the sync module, the renderer, the tools and the panels.
 * `createStudio` returns a facade (StudioFacade), which is the only public surface; the
 * `Studio` class itself is internal to frontend/studio/.
 */
import { api } from "../lib/api";
import { pageSocket } from "../lib/live";
import type { Attribute, LabelNode, Recipe } from "../lib/ontology";
import type { WireAnnotation } from "./adapter";
import { geometryBounds, translateGeometry, type Bounds } from "./geometry";
import { HistoryDialog } from "./history";
import { Mode, MODE_KEYS, MODE_NAMES, toolOfMode, type Annotation, type Geometry, type Pt } from "./model";
import { ImageLevels, loadImageLevels } from "./imagelevels";
import { Outbox, type OutboxEntry } from "./outbox";
import { Panels } from "./panels";
import { buildRecipe, colorOf, keepApplicable, type RecipeView, type StudioLabel } from "./recipe";
import { fillRings } from "./raster";
import { Renderer, type ShapeLayerCost } from "./renderer";
import { showAlert } from "./dom";
import { ReviewPanel } from "./review";
import { encodeMask } from "./rle";
import type { BatchBody, BatchResponse } from "./savequeue";
import { hitTest, insideBounds, SpatialIndex } from "./spatial";
import { AnnotationStore, type ChangeSet } from "./store";
import { Sync, type SyncStatus, type ConflictChoice } from "./sync";
import { BoxTool } from "./tools/box";
import { BrushTool } from "./tools/brush";
import { NoteTool, type NoteBox } from "./tools/note";
import { PointTool } from "./tools/point";
import { PolygonTool } from "./tools/polygon";
import { TaskMode, type TaskData } from "./taskmode";
import { SelectTool } from "./tools/select";
import type { Tool, ToolHost, ToolPointer } from "./tools/tool";
import { Viewport } from "./viewport";

interface ItemJson {
  id: string;
  name: string;
  filename?: string;
  datasetId: string;
  metadata: { system: { width?: number; height?: number } };
}

interface OntologyJson {
  roots: LabelNode[];
  attributes?: Attribute[];
  metadata?: { attributes?: Attribute[] };
}

/** The studio's public surface: what the page, the tests and the benchmark may call. */
export interface StudioFacade {
  readonly ready: Promise<void>;
  setMode(mode: Mode): void;
  setLabel(tag: string): void;
  select(keys: string[]): void;
  undo(): void;
  redo(): void;
  fit(): void;
  actualSize(): void;
  zoomAt(screen: Pt, factor: number): void;
  panBy(dx: number, dy: number): void;
  /** A snapshot for tests and the benchmark. */
  state(): { mode: Mode; label: string | null; count: number; selected: string[]; view: { scale: number; x: number; y: number }; save: SyncStatus; lastShapeDrawMs: number; shapeLayer: ShapeLayerCost };
  /** Hit-test at an image point (benchmark). */
  hitTest(x: number, y: number): string | null;
  /** Frame callback (benchmark): called after every drawn frame with its rAF timestamp and drawing time. */
  onFrame(callback: ((time: number, drawMs: number) => void) | null): void;
  /** Resolves after the first frame that shows every shape in view crisp (the crisp layer may take a few frames). */
  drawn(): Promise<void>;
  flush(): Promise<void>;
  /** Open another item in place (task mode); resolves when its annotations are on screen. */
  openItem(itemId: string): Promise<void>;
  /** The open item's id. */
  itemId(): string;
}

/** Copied objects and the item they were copied from. */
interface Clipboard {
  itemId: string;
  annotations: Annotation[];
}

const CLIPBOARD_KEY = "annotator.studio.clipboard";

let counter = 0;
const newKey = () => `new-${Date.now().toString(36)}-${(counter++).toString(36)}`;

export class Studio implements ToolHost {
  readonly store = new AnnotationStore();
  readonly viewport = new Viewport();
  readonly index = new SpatialIndex();
  readonly selected = new Set<string>();
  readonly drafts = new Map<string, Geometry>();
  readonly hidden = new Set<string>();
  readonly locked = new Set<string>();
  /** Objects with review status "issue", kept as the store changes (the renderer marks them). */
  readonly issues = new Set<string>();
  readonly sync: Sync;
  readonly renderer: Renderer;
  readonly panels: Panels;
  /** The open item; task mode opens the next one in place (openItem). */
  itemId: string;
  readonly canEdit: boolean;
  /** Called after the panels redraw (selection, edits, remote changes): for task mode's review panel. */
  readonly refreshListeners = new Set<() => void>();
  /** Review mode turns the note tool on (N); task mode listens for the dropped box. */
  reviewNotes = false;
  readonly noteDropped = new Set<(box: NoteBox) => void>();
  readonly noteTool: NoteTool;
  private datasetId: string | null = null;
  private imageGeneration = 0;
  imageWidth = 1;
  imageHeight = 1;
  recipe: RecipeView = { labels: [], attributes: [] };
  activeLabel: string | null = null;
  mode: Mode = Mode.Select;
  hovered: string | null = null;
  painting: string | null = null;
  saveStatus: SyncStatus = { state: "saved", pending: 0, message: "All changes saved" };
  private image = new ImageLevels();
  private readonly tools: Map<Mode, Tool>;
  private zOrder = new Map<string, number>();
  private zDirty = true;
  private zoomReadout: number | null = null;
  private spaceDown = false;
  private pan: { last: Pt; pointerId: number } | null = null;
  private clipboard: Clipboard | null = null;
  private readonly outbox = new Outbox();
  readonly ready: Promise<void>;

  constructor(readonly root: HTMLElement) {
    this.itemId = root.dataset.itemId!;
    this.canEdit = root.dataset.canEdit === "true";
    // The scene's getters read fields that change after the renderer is made.
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const studio = this;
    const host = root.querySelector<HTMLElement>("#canvas-host")!;
    this.renderer = new Renderer(host, {
      viewport: this.viewport,
      get imageWidth() {
        return studio.imageWidth;
      },
      get imageHeight() {
        return studio.imageHeight;
      },
      get image() {
        return studio.image;
      },
      index: this.index,
      get: (key) => this.store.get(key),
      z: (key) => this.z(key),
      color: (label) => colorOf(this.recipe.labels, label),
      hidden: this.hidden,
      selected: this.selected,
      get hovered() {
        return studio.hovered;
      },
      drafts: this.drafts,
      issues: this.issues,
      get painting() {
        return studio.painting;
      },
      drawTool: (ctx, viewport) => this.tool.drawOverlay(ctx, viewport),
    });
    this.noteTool = new NoteTool(this, (box) => {
      for (const listener of this.noteDropped) listener(box);
    });
    this.tools = new Map<Mode, Tool>([
      [Mode.Select, new SelectTool(this)],
      [Mode.Box, new BoxTool(this, Mode.Box)],
      [Mode.Polygon, new PolygonTool(this, Mode.Polygon)],
      [Mode.Polyline, new PolygonTool(this, Mode.Polyline)],
      [Mode.Point, new PointTool(this)],
      [Mode.Ellipse, new BoxTool(this, Mode.Ellipse)],
      [Mode.Brush, new BrushTool(this, Mode.Brush)],
      [Mode.Eraser, new BrushTool(this, Mode.Eraser)],
      [Mode.Note, this.noteTool],
    ]);
    this.sync = new Sync(this.store, {
      send: (body: BatchBody) => api<BatchResponse>(`/items/${this.itemId}/annotations/batch?maskFormat=rle`, { json: body }),
      onStatus: (status) => {
        this.saveStatus = status;
        this.panels.showSaveStatus(status);
      },
      onConflict: (mine, theirs) => this.panels.askConflict(mine, theirs) as Promise<ConflictChoice>,
      outbox: this.outbox,
      outboxKey: () => this.outboxKey(this.itemId),
      onPersisted: (count) => (this.root.dataset.outbox = String(count)),
    });
    this.panels = new Panels(this, root);
    this.store.subscribe((set) => this.onStoreChange(set));
    // One handler for the page's life: it reads the open item's id when an event arrives.
    pageSocket().onEvent((message) => {
      if (message.event === "annotations.changed" && message.data.itemId === this.itemId) this.sync.remote(message.data);
    });
    this.wireCanvas(host);
    this.wireKeyboard();
    window.addEventListener("beforeunload", (event) => {
      if (this.sync.pending) event.preventDefault(); // unsaved edits: let the browser ask
    });
    this.ready = this.open();
  }

  get tool(): Tool {
    return this.tools.get(this.mode)!;
  }

  // --- loading -----------------------------------------------------------------------------------
  private async open(): Promise<void> {
    // The page names the dataset, so the recipe's round trips run alongside the item's.
    const datasetId = this.root.dataset.datasetId;
    const [item, wire, , kept] = await Promise.all([
      api<ItemJson>(`/items/${this.itemId}`),
      api<WireAnnotation[]>(`/items/${this.itemId}/annotations?maskFormat=rle`),
      datasetId ? this.loadRecipe(datasetId) : Promise.resolve(),
      this.outbox.load(this.outboxKey(this.itemId)),
    ]);
    this.showImage(item);
    if (!datasetId) await this.loadRecipe(item.datasetId);
    this.store.load(this.sync.loaded(wire));
    this.restoreKept(kept);
    pageSocket().subscribe(`item.${this.itemId}`);
    this.panels.loaded();
    this.panels.showSaveStatus(this.saveStatus);
    this.setMode(this.canEdit ? Mode.Box : Mode.Select);
    this.root.dataset.ready = "true";
  }

  /**
   * Open another item in this studio without reloading the page (task mode's next item).
   * The caller has saved everything (sync.flushAll): unsaved edits of the old item are dropped.
   */
  async openItem(itemId: string): Promise<void> {
    const [item, wire, kept] = await Promise.all([
      api<ItemJson>(`/items/${itemId}`),
      api<WireAnnotation[]>(`/items/${itemId}/annotations?maskFormat=rle`),
      this.outbox.load(this.outboxKey(itemId)),
    ]);
    delete this.root.dataset.ready;
    this.tool.cancel();
    const socket = pageSocket();
    socket.unsubscribe(`item.${this.itemId}`);
    this.itemId = itemId;
    this.root.dataset.itemId = itemId;
    for (const set of [this.selected, this.hidden, this.locked]) set.clear();
    this.drafts.clear();
    this.hovered = null;
    this.painting = null;
    this.store.clear();
    this.sync.reset();
    const recipeChanged = item.datasetId !== this.datasetId;
    if (recipeChanged) await this.loadRecipe(item.datasetId);
    this.showImage(item);
    this.store.load(this.sync.loaded(wire));
    this.store.history.clear();
    this.restoreKept(kept);
    socket.subscribe(`item.${itemId}`);
    if (recipeChanged) this.panels.loaded();
    this.panels.itemOpened(item);
    this.setMode(this.mode);
    this.root.dataset.ready = "true";
  }

  /** Kept per user: someone else signing in on this browser must not send another's edits. */
  private outboxKey(itemId: string): string {
    return `${this.root.dataset.userId ?? ""}/${itemId}`;
  }

  /** Edits an earlier page kept while it could not save them (outbox.ts). */
  private restoreKept(kept: OutboxEntry[]): void {
    const count = this.sync.restore(kept);
    if (count) this.panels.announce(`Restored ${count} unsaved change${count === 1 ? "" : "s"} from an earlier visit; saving them.`);
  }

  private showImage(item: ItemJson): void {
    this.imageWidth = item.metadata.system.width ?? 1;
    this.imageHeight = item.metadata.system.height ?? 1;
    this.image.close();
    this.image = new ImageLevels();
    this.loadImage();
    this.fit();
  }

  private async loadRecipe(datasetId: string): Promise<void> {
    this.datasetId = datasetId;
    const dataset = await api<{ metadata?: { system?: { recipes?: string[] } } }>(`/datasets/${datasetId}`);
    const recipeId = dataset.metadata?.system?.recipes?.[0];
    if (!recipeId) return;
    const recipe = await api<Recipe>(`/recipes/${recipeId}`);
    const ontologies = await Promise.all(recipe.ontologyIds.map((id) => api<OntologyJson>(`/ontologies/${id}`)));
    const roots = ontologies.flatMap((o) => o.roots);
    const attributes = ontologies.flatMap((o) => o.attributes ?? o.metadata?.attributes ?? []);
    this.recipe = buildRecipe(roots, attributes, recipe.labelTools ?? {});
    this.activeLabel = this.recipe.labels[0]?.tag ?? null;
  }

  /** The thumbnail first, so there is something to work on at once; then a preview and the full image (imagelevels.ts). */
  private loadImage(): void {
    // A late image of an item that is no longer open must not replace the current one.
    const generation = ++this.imageGeneration;
    const current = () => generation === this.imageGeneration;
    delete this.root.dataset.image;
    loadImageLevels(`/api/v1/items/${this.itemId}`, this.imageWidth, this.imageHeight, this.image, {
      current,
      added: (full) => {
        this.panels.imageLoaded(full);
        this.renderer.request();
      },
      failed: () => this.panels.announce("The image could not be loaded."),
    });
  }

  // --- store changes -----------------------------------------------------------------------------
  private onStoreChange(set: ChangeSet): void {
    if (set.changes.length > 200) {
      this.index.load(this.store.all());
    } else {
      for (const change of set.changes) {
        if (change.after) this.index.upsert(change.after);
        else this.index.remove(change.key);
      }
    }
    for (const change of set.changes) {
      if (change.after?.status === "issue") this.issues.add(change.key);
      else this.issues.delete(change.key);
      this.renderer.forgetMask(change.key);
      if (!change.after) {
        this.selected.delete(change.key);
        this.hidden.delete(change.key);
        this.locked.delete(change.key);
      }
    }
    this.zDirty = true;
    this.renderer.invalidateShapes();
    this.panels.changed(set);
  }

  private z(key: string): number {
    if (this.zDirty) {
      this.zOrder = new Map(this.store.keys().map((k, i) => [k, i]));
      this.zDirty = false;
    }
    return this.zOrder.get(key) ?? 0;
  }

  // --- ToolHost ------------------------------------------------------------------------------------
  create(geometry: Geometry): Annotation | null {
    if (!this.canEdit) return null;
    const label = this.label(this.activeLabel);
    if (!label) {
      this.panels.announce("Pick a label first.");
      return null;
    }
    if (!label.tools.has(geometry.kind as never)) {
      this.panels.announce(`${label.name} cannot be drawn as ${geometry.kind}.`);
      return null;
    }
    const annotation: Annotation = { key: newKey(), type: geometry.kind, label: label.tag, geometry, attributes: {}, status: null, parentId: null };
    this.store.create(annotation, `Draw ${MODE_NAMES[this.mode] ?? geometry.kind}`);
    this.select([annotation.key]);
    return annotation;
  }

  hitTest(p: Pt, tolerancePx = 5): string | null {
    return hitTest(this.index, p, {
      tolerance: tolerancePx / this.viewport.scale,
      z: (key) => this.z(key),
      get: (key) => this.store.get(key),
      hidden: (key) => this.hidden.has(key),
      maskHit: (key, x, y) => this.renderer.maskHit(key, x, y),
    });
  }

  inside(b: Bounds): string[] {
    return insideBounds(this.index, b, (key) => this.store.get(key)).filter((key) => !this.hidden.has(key));
  }

  select(keys: Iterable<string>): void {
    const next = new Set([...keys].filter((key) => this.store.has(key)));
    if (next.size === this.selected.size && [...next].every((k) => this.selected.has(k))) return;
    this.selected.clear();
    for (const key of next) this.selected.add(key);
    this.renderer.invalidateShapes();
    this.panels.selectionChanged();
  }

  isLocked(key: string): boolean {
    return this.locked.has(key);
  }

  setCursor(cursor: string): void {
    if (!this.spaceDown && !this.pan) this.renderer.canvas.style.cursor = cursor;
  }

  redraw(): void {
    this.renderer.request();
  }

  redrawShapes(): void {
    this.renderer.invalidateShapes();
  }

  announce(message: string): void {
    this.panels.announce(message);
  }

  activeLabelTag(): string | null {
    return this.activeLabel;
  }

  colorOf(label: string): string {
    return colorOf(this.recipe.labels, label);
  }

  setPainting(key: string | null): void {
    if (this.painting === key) return;
    this.painting = key;
    this.renderer.invalidateShapes();
  }

  // --- commands ------------------------------------------------------------------------------------
  label(tag: string | null): StudioLabel | undefined {
    return this.recipe.labels.find((l) => l.tag === tag);
  }

  setMode(mode: Mode): void {
    if (mode !== Mode.Select && !this.canEdit) return;
    if (mode === Mode.Note && !this.reviewNotes) return;
    this.tool.cancel();
    this.mode = mode;
    // A drawing tool needs a label that may use it: keep the active one if it can, else the first that can.
    const active = this.label(this.activeLabel);
    if (mode !== Mode.Select && active && !active.tools.has(toolOfMode(mode) as never)) {
      const other = this.recipe.labels.find((l) => l.tools.has(toolOfMode(mode) as never));
      if (other) this.activeLabel = other.tag;
    }
    this.tool.activate();
    this.panels.modeChanged();
    this.renderer.request();
  }

  /** Pick the label to draw with. `relabel`: in the select tool, the selected objects take it too. */
  setLabel(tag: string, relabel = false): void {
    const label = this.label(tag);
    if (!label) return;
    this.activeLabel = tag;
    if (this.mode !== Mode.Select && !label.tools.has(toolOfMode(this.mode) as never)) {
      const first = [Mode.Box, Mode.Polygon, Mode.Polyline, Mode.Point, Mode.Ellipse, Mode.Brush].find((m) => label.tools.has(m as never));
      this.tool.cancel();
      this.mode = first ?? Mode.Select;
      this.tool.activate();
      this.panels.modeChanged();
    }
    if (relabel && this.mode === Mode.Select) this.relabel([...this.selected], tag);
    this.panels.labelChanged();
  }

  relabel(keys: string[], tag: string): void {
    if (!this.canEdit) return;
    const label = this.label(tag);
    if (!label) return;
    const changes = keys
      .map((key) => this.store.get(key))
      .filter((a): a is Annotation => !!a && a.label !== tag && !this.locked.has(a.key) && label.tools.has(a.type as never))
      .map((a) => ({ key: a.key, before: a, after: { ...a, label: tag, attributes: keepApplicable(this.recipe.attributes, tag, a.attributes) } }));
    if (changes.length) this.store.apply({ source: "local", label: `Label as ${label.name}`, changes });
  }

  setAttribute(key: string, attribute: string, value: unknown): void {
    const a = this.store.get(key);
    if (!a || !this.canEdit) return;
    const attributes = { ...a.attributes };
    if (value === null || value === undefined || value === "" || (Array.isArray(value) && !value.length)) delete attributes[attribute];
    else attributes[attribute] = value;
    if (JSON.stringify(attributes) === JSON.stringify(a.attributes)) return;
    this.store.update({ ...a, attributes }, "Set attribute");
  }

  /** Item-level classification with `tag`: on adds a class annotation, off removes them. */
  setClass(tag: string, on: boolean): void {
    if (!this.canEdit) return;
    const existing = this.store.all().filter((a) => a.type === "class" && a.label === tag);
    if (on && !existing.length) {
      this.store.create({ key: newKey(), type: "class", label: tag, geometry: { kind: "class" }, attributes: {}, status: null, parentId: null }, "Classify");
    } else if (!on && existing.length) {
      this.store.remove(existing.map((a) => a.key), "Unclassify");
    }
  }

  deleteSelected(): void {
    const keys = [...this.selected].filter((k) => !this.locked.has(k));
    if (!keys.length || !this.canEdit) return;
    this.store.remove(keys, keys.length > 1 ? `Delete ${keys.length} objects` : "Delete");
  }

  undo(): void {
    this.tool.cancel();
    const set = this.store.undo();
    if (set) this.panels.announce(`Undone: ${set.label ?? "change"}`);
  }

  redo(): void {
    this.tool.cancel();
    const set = this.store.redo();
    if (set) this.panels.announce(`Redone: ${set.label ?? "change"}`);
  }

  toggleHidden(keys: string[], hide?: boolean): void {
    const target = hide ?? keys.some((k) => !this.hidden.has(k));
    for (const key of keys) {
      if (target) this.hidden.add(key);
      else this.hidden.delete(key);
    }
    this.renderer.invalidateShapes();
    this.panels.refreshObjects();
  }

  toggleLocked(key: string): void {
    if (this.locked.has(key)) this.locked.delete(key);
    else this.locked.add(key);
    this.panels.refreshObjects();
  }

  /**
   * Copy the selection. The clipboard also goes to sessionStorage, so that Ctrl+V on another item
   * opened in this tab pastes it; task mode's next item keeps the in-memory one.
   */
  copy(): void {
    const annotations = [...this.selected].map((k) => this.store.get(k)).filter((a): a is Annotation => !!a && a.type !== "class" && a.type !== "note").map((a) => structuredClone(a));
    if (!annotations.length) return;
    this.keepClipboard({ itemId: this.itemId, annotations });
    this.panels.announce(`Copied ${annotations.length} object${annotations.length === 1 ? "" : "s"}.`);
  }

  private keepClipboard(clipboard: Clipboard): void {
    this.clipboard = clipboard;
    try {
      sessionStorage.setItem(CLIPBOARD_KEY, JSON.stringify(clipboard));
    } catch {
      // Storage full or disabled: the clipboard still works within this page.
    }
  }

  private readClipboard(): Clipboard | null {
    try {
      const kept = sessionStorage.getItem(CLIPBOARD_KEY);
      if (kept) return JSON.parse(kept) as Clipboard;
    } catch {
      // Unreadable: fall back to this page's own.
    }
    return this.clipboard;
  }

  /** Paste the clipboard: offset a little on the item it came from, in place on another item. */
  paste(): void {
    const clipboard = this.readClipboard();
    if (!clipboard?.annotations.length || !this.canEdit) return;
    const sameItem = clipboard.itemId === this.itemId;
    const offset = sameItem ? 10 / Math.max(this.viewport.scale, 0.01) : 0;
    const fits = (a: Annotation) => {
      const label = this.label(a.label);
      if (!label?.tools.has(a.type as never)) return false;
      if (a.geometry.kind === "binary") return a.geometry.mask.size[0] === this.imageHeight && a.geometry.mask.size[1] === this.imageWidth;
      const b = geometryBounds(a.geometry);
      return !!b && b.minX < this.imageWidth && b.minY < this.imageHeight;
    };
    const usable = clipboard.annotations.filter(fits);
    const skipped = clipboard.annotations.length - usable.length;
    if (!usable.length) {
      this.panels.announce("Nothing to paste here: the copied objects' labels or sizes do not fit this item.");
      return;
    }
    const copies = usable.map((a) => ({ ...structuredClone(a), key: newKey(), geometry: translateGeometry(a.geometry, offset, offset), status: null, parentId: null }));
    this.store.apply({ source: "local", label: "Paste", changes: copies.map((a) => ({ key: a.key, before: null, after: a })) });
    this.keepClipboard({ itemId: this.itemId, annotations: copies.map((a) => structuredClone(a)) });
    this.select(copies.map((a) => a.key));
    const n = copies.length;
    this.panels.announce(`Pasted ${n} object${n === 1 ? "" : "s"}${sameItem ? "" : " from another item"}${skipped ? `; ${skipped} did not fit this item` : ""}.`);
  }

  /** Move the selection one place up (1) or down (-1) the drawing order. */
  restack(step: 1 | -1): void {
    if (!this.canEdit || !this.selected.size) return;
    if (!this.store.reorder([...this.selected], step)) this.panels.announce(step > 0 ? "Already in front." : "Already at the back.");
  }

  /** Fill the selected polygon into a new mask of the same label (even-odd, like the server). */
  fillAsMask(): void {
    if (!this.canEdit) return;
    const a = this.selected.size === 1 ? this.store.get([...this.selected][0]) : undefined;
    if (!a || a.geometry.kind !== "segment") {
      this.panels.announce("Select one polygon to fill as a mask.");
      return;
    }
    const label = this.label(a.label);
    if (!label?.tools.has("binary" as never)) {
      this.panels.announce(`${label?.name ?? a.label} cannot be drawn as a mask.`);
      return;
    }
    const mask = encodeMask(fillRings(a.geometry.rings, this.imageWidth, this.imageHeight), this.imageWidth, this.imageHeight);
    if (!mask.bbox) {
      this.panels.announce("The polygon covers no pixel.");
      return;
    }
    const created: Annotation = { key: newKey(), type: "binary", label: a.label, geometry: { kind: "binary", mask }, attributes: structuredClone(a.attributes), status: null, parentId: null };
    this.store.create(created, "Fill polygon as mask");
    this.select([created.key]);
    this.panels.announce(`Filled as a ${label.name} mask.`);
  }

  /** Select the next (or previous) visible object in the list: a keyboard path to every object. */
  cycleSelection(step: 1 | -1): void {
    const keys = this.store.keys().filter((k) => !this.hidden.has(k));
    if (!keys.length) return;
    const current = this.selected.size === 1 ? keys.indexOf([...this.selected][0]) : -1;
    const next = current < 0 ? (step > 0 ? 0 : keys.length - 1) : (current + step + keys.length) % keys.length;
    this.select([keys[next]]);
    this.panels.scrollToSelected();
  }

  // --- view ------------------------------------------------------------------------------------------
  fit(): void {
    this.viewport.fit(this.imageWidth, this.imageHeight, this.renderer.viewWidth, this.renderer.viewHeight);
    this.viewChanged(false);
  }

  actualSize(): void {
    this.viewport.actualSize(this.renderer.viewWidth, this.renderer.viewHeight);
    this.viewChanged(false);
  }

  zoomAt(screen: Pt, factor: number, gesture = true): void {
    this.viewport.zoomAt(screen, factor);
    this.viewChanged(gesture);
  }

  panBy(dx: number, dy: number): void {
    this.viewport.panBy(dx, dy);
    this.viewChanged(true);
  }

  private viewChanged(gesture: boolean): void {
    if (gesture) this.renderer.gestureStep();
    else this.renderer.request();
    // The zoom readout is DOM: setting it on every frame of a gesture re-ran the page's style,
    // layout and paint, most of a pan frame's cost. During a gesture a few times a second will do.
    if (!gesture) this.panels.zoomChanged();
    else this.zoomReadout ??= window.setTimeout(() => ((this.zoomReadout = null), this.panels.zoomChanged()), 250);
  }

  // --- input -----------------------------------------------------------------------------------------
  private pointer(event: PointerEvent | MouseEvent, host: HTMLElement): ToolPointer {
    const rect = host.getBoundingClientRect();
    const screen = { x: event.clientX - rect.left, y: event.clientY - rect.top };
    return { screen, image: this.viewport.toImage(screen), shift: event.shiftKey, alt: event.altKey, button: event.button };
  }

  private wireCanvas(host: HTMLElement): void {
    host.addEventListener("pointerdown", (event) => {
      host.focus({ preventScroll: true });
      if (event.button === 1 || (event.button === 0 && this.spaceDown)) {
        event.preventDefault();
        this.pan = { last: { x: event.clientX, y: event.clientY }, pointerId: event.pointerId };
        host.setPointerCapture(event.pointerId);
        this.renderer.canvas.style.cursor = "grabbing";
        return;
      }
      if (event.button !== 0) return;
      host.setPointerCapture(event.pointerId);
      this.tool.pointerDown(this.pointer(event, host));
    });
    host.addEventListener("pointermove", (event) => {
      const p = this.pointer(event, host);
      // Not while panning: like the zoom readout, writing DOM text every frame re-ran the
      // page's style and layout; the position under a still cursor is shown when the pan ends.
      if (!this.pan) this.panels.pointerAt(p.image, this.imageWidth, this.imageHeight);
      if (this.pan) {
        this.panBy(event.clientX - this.pan.last.x, event.clientY - this.pan.last.y);
        this.pan.last = { x: event.clientX, y: event.clientY };
        return;
      }
      this.tool.pointerMove(p);
      if (this.mode === Mode.Select && !this.tool.busy && event.buttons === 0) {
        const hovered = this.hitTest(p.image);
        if (hovered !== this.hovered) {
          this.hovered = hovered;
          this.renderer.request();
        }
      }
    });
    const up = (event: PointerEvent) => {
      if (host.hasPointerCapture(event.pointerId)) host.releasePointerCapture(event.pointerId);
      if (this.pan && this.pan.pointerId === event.pointerId) {
        this.pan = null;
        this.renderer.canvas.style.cursor = this.spaceDown ? "grab" : "";
        this.tool.activate();
        return;
      }
      if (event.button !== 0) return;
      this.tool.pointerUp(this.pointer(event, host));
    };
    host.addEventListener("pointerup", up);
    host.addEventListener("pointercancel", () => {
      this.pan = null;
      this.tool.cancel();
    });
    host.addEventListener("pointerleave", () => {
      this.panels.pointerAt(null, 0, 0);
      if (this.hovered) {
        this.hovered = null;
        this.renderer.request();
      }
    });
    host.addEventListener(
      "wheel",
      (event) => {
        event.preventDefault();
        const p = this.pointer(event, host);
        const delta = event.deltaMode === 1 ? event.deltaY * 16 : event.deltaY;
        this.zoomAt(p.screen, Math.exp(-delta * 0.0015));
      },
      { passive: false },
    );
    host.addEventListener("auxclick", (event) => event.preventDefault());
  }

  private wireKeyboard(): void {
    document.addEventListener("keydown", (event) => this.keyDown(event));
    document.addEventListener("keyup", (event) => {
      if (event.key === " ") {
        this.spaceDown = false;
        if (!this.pan) this.tool.activate();
      }
    });
    window.addEventListener("blur", () => (this.spaceDown = false));
  }

  private keyDown(event: KeyboardEvent): void {
    const target = event.target as HTMLElement | null;
    // In a text field keys are text; on a select or checkbox only Ctrl shortcuts are ours.
    const textEntry = !!target?.closest("input[type=text], input:not([type]), textarea, [contenteditable]");
    const typing = textEntry || !!target?.closest("input, select");
    if (this.panels.dialogOpen()) return;
    const ctrl = event.ctrlKey || event.metaKey;
    const key = event.key;
    if (ctrl && !event.altKey && key.toLowerCase() === "z" && !textEntry) {
      event.preventDefault();
      if (event.shiftKey) this.redo();
      else this.undo();
      return;
    }
    if (ctrl && key.toLowerCase() === "y" && !textEntry) {
      event.preventDefault();
      this.redo();
      return;
    }
    if (typing) return;
    // Buttons and links keep their own Enter and Space.
    const onControl = !!target?.closest("button, a, [role=radio]");
    if (ctrl) {
      const lower = key.toLowerCase();
      if (lower === "c") this.copy();
      else if (lower === "v") this.paste();
      else if (lower === "a") this.select(this.store.keys().filter((k) => !this.hidden.has(k)));
      else if (key === "]" || key === "[") this.restack(key === "]" ? 1 : -1);
      else return;
      event.preventDefault();
      return;
    }
    if (key === " " && !onControl) {
      event.preventDefault();
      if (!this.spaceDown) {
        this.spaceDown = true;
        this.renderer.canvas.style.cursor = "grab";
      }
      return;
    }
    if (this.tool.keyDown(event)) {
      event.preventDefault();
      return;
    }
    // Nudging and deleting the selection work whatever the tool.
    if (this.mode !== Mode.Select && !this.tool.busy && /^Arrow/.test(key) && this.tools.get(Mode.Select)!.keyDown(event)) {
      event.preventDefault();
      return;
    }
    if (key === "Escape") {
      if (this.tool.busy) this.tool.cancel();
      else this.select([]);
      return;
    }
    if (onControl && (key === "Enter" || key === " ")) return;
    if (key === "?") {
      event.preventDefault();
      this.panels.showHelp();
      return;
    }
    if (key === "Delete" || key === "Backspace") {
      event.preventDefault();
      this.deleteSelected();
      return;
    }
    if (key === "Tab" && target?.closest("#canvas-host")) {
      event.preventDefault();
      this.cycleSelection(event.shiftKey ? -1 : 1);
      return;
    }
    if (event.altKey) return;
    const label = this.recipe.labels.find((l) => l.hotkey === key);
    if (label) {
      event.preventDefault();
      this.setLabel(label.tag, true);
      return;
    }
    const lower = key.toLowerCase();
    if (key === "M" && event.shiftKey) {
      event.preventDefault();
      this.fillAsMask();
      return;
    }
    const mode = (Object.keys(MODE_KEYS) as Mode[]).find((m) => MODE_KEYS[m] === lower);
    if (mode && !event.shiftKey) {
      event.preventDefault();
      this.setMode(mode);
      return;
    }
    if (lower === "h") {
      event.preventDefault();
      if (event.shiftKey) this.toggleHidden(this.store.keys());
      else if (this.selected.size) this.toggleHidden([...this.selected]);
      return;
    }
    const view: Record<string, () => void> = {
      f: () => this.fit(),
      r: () => this.actualSize(),
      "+": () => this.zoomAt({ x: this.renderer.viewWidth / 2, y: this.renderer.viewHeight / 2 }, 1.25, false),
      "=": () => this.zoomAt({ x: this.renderer.viewWidth / 2, y: this.renderer.viewHeight / 2 }, 1.25, false),
      "-": () => this.zoomAt({ x: this.renderer.viewWidth / 2, y: this.renderer.viewHeight / 2 }, 0.8, false),
    };
    if (view[lower]) {
      event.preventDefault();
      view[lower]();
    }
  }
}

/** Open the studio in `root` (the #studio element the page renders) and return its facade. */
export function createStudio(root: HTMLElement): StudioFacade {
  const studio = new Studio(root);
  const taskData = document.getElementById("task-data")?.textContent;
  new HistoryDialog(studio);
  if (taskData) new TaskMode(studio, JSON.parse(taskData) as TaskData);
  else {
    // Opened from its dataset: review notes are read and answered here too, and a fixed object is marked for review.
    const alertBox = document.getElementById("task-alert")!;
    const objectReview = root.dataset.canReview === "true";
    new ReviewPanel(studio, { reviewing: false, objectReview, inTask: false, alert: (text) => showAlert(alertBox, text), sentBack: () => undefined });
  }
  return {
    ready: studio.ready,
    setMode: (mode) => studio.setMode(mode),
    setLabel: (tag) => studio.setLabel(tag),
    select: (keys) => studio.select(keys),
    undo: () => studio.undo(),
    redo: () => studio.redo(),
    fit: () => studio.fit(),
    actualSize: () => studio.actualSize(),
    zoomAt: (screen, factor) => studio.zoomAt(screen, factor),
    panBy: (dx, dy) => studio.panBy(dx, dy),
    state: () => ({
      mode: studio.mode,
      label: studio.activeLabel,
      count: studio.store.size,
      selected: [...studio.selected],
      view: { scale: studio.viewport.scale, x: studio.viewport.x, y: studio.viewport.y },
      save: studio.saveStatus,
      lastShapeDrawMs: studio.renderer.lastShapeDrawMs,
      shapeLayer: studio.renderer.lastShapeLayer,
    }),
    hitTest: (x, y) => studio.hitTest({ x, y }),
    onFrame: (callback) => {
      studio.renderer.onFrame = callback;
    },
    drawn: () => studio.renderer.whenSettled(),
    flush: () => studio.sync.flush(),
    openItem: (itemId) => studio.openItem(itemId),
    itemId: () => studio.itemId,
  };
}
