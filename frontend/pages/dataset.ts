/**
 * The dataset browser: folder tree, DQL filter, a thumbnail grid paged by id (keyset, so
 * page 1,000 costs what page 1 does), an item preview, and drag-and-drop upload.
 */
import { ApiError, api, uploadForm } from "../lib/api";
import { type Command, followCommand } from "../lib/commands";
import { buildItemQuery, formatBytes, parseDql, type Filter } from "../lib/dql";
import { shownFilter } from "../lib/exchange";
import { wireExchange } from "./dataset-exchange";

interface Item {
  id: string;
  name: string;
  filename: string;
  dir: string;
  type: string;
  thumbnail: string;
  stream: string;
  createdAt: string;
  metadata: { system: Record<string, unknown>; user: Record<string, unknown> };
  annotationsCount?: number;
}
interface Page<T> {
  items: T[];
  totalItemsCount: number;
  hasNextPage: boolean;
}
interface FolderNode {
  path: string;
  name: string;
  children: FolderNode[];
}

const PAGE_SIZE = 100;
const UPLOAD_PARALLEL = 3;

class DatasetBrowser {
  private readonly datasetId: string;
  private folder = "/";
  private userFilter: Filter | null = null;
  /** Only items with an annotation matching this (DQL over annotations, sent as a join). */
  private annotationFilter: Filter | null = null;
  private lastId: string | null = null;
  private loading = false;
  private exhausted = false;
  private generation = 0;
  private observer: IntersectionObserver | null = null;

  private readonly grid = byId<HTMLUListElement>("item-grid");
  private readonly status = byId<HTMLParagraphElement>("grid-status");
  private readonly tree = byId<HTMLUListElement>("folder-tree");

  constructor(private readonly root: HTMLElement) {
    this.datasetId = root.dataset.datasetId ?? "";
  }

  start(): void {
    this.wireFilter();
    this.wirePreview();
    if (this.root.dataset.canUpload === "true") this.wireUpload();
    this.wireActions();
    wireExchange({
      datasetId: this.datasetId,
      projectId: this.root.dataset.projectId ?? "",
      selection: () => ({ folder: this.folder, filter: this.userFilter, combined: shownFilter(this.folder, this.userFilter), annotations: this.annotationFilter }),
      imported: async () => {
        await this.loadTree();
        await this.reset();
      },
    });
    this.observer = new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting)) void this.loadMore();
    }, { rootMargin: "600px" });
    this.observer.observe(byId("grid-sentinel"));
    void this.loadTree();
    void this.reset();
  }

  // --- folders -------------------------------------------------------------------------------
  private async loadTree(): Promise<void> {
    const dataset = await api<{ directoryTree: FolderNode; itemsCount: number }>(`/datasets/${this.datasetId}`);
    byId("item-count").textContent = String(dataset.itemsCount);
    this.tree.replaceChildren(this.folderNode({ path: "/", name: "All items", children: dataset.directoryTree.children }, true));
  }

  private folderNode(node: FolderNode, isRoot = false): HTMLLIElement {
    const li = document.createElement("li");
    li.setAttribute("role", "treeitem");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "folder" + (node.path === this.folder ? " current" : "");
    button.textContent = node.name;
    if (!isRoot) button.classList.add("subfolder");
    button.setAttribute("aria-current", node.path === this.folder ? "true" : "false");
    button.addEventListener("click", () => {
      this.folder = node.path;
      byIdOptional("upload-target")?.replaceChildren(node.path);
      this.tree.querySelectorAll("button.folder").forEach((b) => {
        b.classList.remove("current");
        b.setAttribute("aria-current", "false");
      });
      button.classList.add("current");
      button.setAttribute("aria-current", "true");
      void this.reset();
    });
    li.append(button);
    if (node.children.length) {
      const group = document.createElement("ul");
      group.setAttribute("role", "group");
      for (const child of node.children) group.append(this.folderNode(child));
      li.append(group);
    }
    return li;
  }

  // --- the grid ----------------------------------------------------------------------------------
  private async reset(): Promise<void> {
    this.generation += 1;
    this.lastId = null;
    this.exhausted = false;
    this.loading = false;
    this.grid.replaceChildren();
    await this.loadMore();
  }

  private async loadMore(): Promise<void> {
    if (this.loading || this.exhausted) return;
    this.loading = true;
    const generation = this.generation;
    this.status.textContent = "Loading…";
    try {
      const query = buildItemQuery({ folder: this.folder, filter: this.userFilter, annotations: this.annotationFilter, afterId: this.lastId, pageSize: PAGE_SIZE });
      const page = await api<Page<Item>>(`/datasets/${this.datasetId}/query`, { json: query });
      if (generation !== this.generation) return; // a newer filter or folder replaced this one
      for (const item of page.items) this.grid.append(this.tile(item));
      this.lastId = page.items.at(-1)?.id ?? this.lastId;
      this.exhausted = !page.hasNextPage;
      const shown = this.grid.children.length;
      this.status.textContent = shown === 0 ? "No items match." : `Showing ${shown}${this.exhausted ? "" : "+"} item${shown === 1 && this.exhausted ? "" : "s"}`;
      if (!this.exhausted) this.recheckSentinel();
    } catch (error) {
      this.status.textContent = "";
      this.showFilterError(error);
    } finally {
      if (generation === this.generation) this.loading = false;
    }
  }

  /** An observer reports only changes: when a page leaves the sentinel still in range (a tall
   * screen), nothing would load the next one. Observing afresh reports where it is now. */
  private recheckSentinel(): void {
    const sentinel = byId("grid-sentinel");
    this.observer?.unobserve(sentinel);
    this.observer?.observe(sentinel);
  }

  private tile(item: Item): HTMLLIElement {
    const li = document.createElement("li");
    li.className = "tile";
    const button = document.createElement("button");
    button.type = "button";
    button.setAttribute("aria-label", `Open ${item.name}`);
    const image = document.createElement("img");
    image.loading = "lazy";
    image.decoding = "async";
    image.alt = "";
    image.src = item.thumbnail;
    let retries = 0;
    // A fresh upload's thumbnail is made by a background job: retry briefly, then show the image.
    image.addEventListener("error", () => {
      retries += 1;
      if (retries <= 5) window.setTimeout(() => (image.src = `${item.thumbnail}?retry=${retries}`), 800 * retries);
      else image.src = item.stream;
    });
    const caption = document.createElement("span");
    caption.className = "tile-caption";
    const name = document.createElement("span");
    name.className = "tile-name";
    name.textContent = item.name;
    caption.append(name);
    const count = item.annotationsCount ?? 0;
    if (count) {
      const badge = document.createElement("span");
      badge.className = "tile-count";
      badge.textContent = String(count);
      badge.title = `${count} annotation${count === 1 ? "" : "s"}`;
      button.setAttribute("aria-description", badge.title);
      caption.append(badge);
    }
    button.append(image, caption);
    button.addEventListener("click", () => void this.preview(item.id));
    li.append(button);
    return li;
  }

  // --- filter ------------------------------------------------------------------------------------
  private wireFilter(): void {
    const form = byId<HTMLFormElement>("dql-form");
    const input = byId<HTMLInputElement>("dql-input");
    const annotations = byId<HTMLInputElement>("dql-annotations");
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const parsed = parseDql(input.value);
      const parsedAnnotations = parseDql(annotations.value, "The annotation filter", '{"label": "car"}');
      if (!parsed.ok) {
        this.showFilterError(new Error(parsed.error));
        return;
      }
      if (!parsedAnnotations.ok) {
        this.showFilterError(new Error(parsedAnnotations.error));
        return;
      }
      this.hideFilterError();
      this.userFilter = parsed.filter;
      this.annotationFilter = parsedAnnotations.filter;
      void this.reset();
    });
    byId("dql-clear").addEventListener("click", () => {
      input.value = "";
      annotations.value = "";
      this.userFilter = null;
      this.annotationFilter = null;
      this.hideFilterError();
      void this.reset();
    });
    form.querySelectorAll<HTMLButtonElement>("button[data-example]").forEach((button) =>
      button.addEventListener("click", () => {
        input.value = button.dataset.example ?? "";
        form.requestSubmit();
      }),
    );
    form.querySelectorAll<HTMLButtonElement>("button[data-annotation-example]").forEach((button) =>
      button.addEventListener("click", () => {
        annotations.value = button.dataset.annotationExample ?? "";
        form.requestSubmit();
      }),
    );
  }

  private showFilterError(error: unknown): void {
    const box = byId("dql-error");
    box.textContent = error instanceof ApiError || error instanceof Error ? error.message : String(error);
    box.hidden = false;
  }

  private hideFilterError(): void {
    byId("dql-error").hidden = true;
  }

  // --- preview -----------------------------------------------------------------------------------------
  private wirePreview(): void {
    byId("preview-close").addEventListener("click", () => (byId("item-preview").hidden = true));
  }

  private async preview(itemId: string): Promise<void> {
    const item = await api<Item>(`/items/${itemId}`);
    const panel = byId("item-preview");
    byId("preview-title").textContent = item.name;
    const image = byId<HTMLImageElement>("preview-image");
    image.src = item.stream;
    image.alt = item.name;
    const system = item.metadata.system;
    const facts: [string, string][] = [
      ["Path", item.filename],
      ["Size", formatBytes(Number(system.size ?? 0))],
      ["Dimensions", `${system.width ?? "?"} × ${system.height ?? "?"}`],
      ["Type", String(system.mimetype ?? "")],
      ["Created", new Date(item.createdAt).toLocaleString()],
    ];
    byId("preview-facts").replaceChildren(
      ...facts.flatMap(([term, value]) => {
        const dt = document.createElement("dt");
        dt.textContent = term;
        const dd = document.createElement("dd");
        dd.textContent = value;
        return [dt, dd];
      }),
    );
    byId("preview-metadata").textContent = JSON.stringify(item.metadata.user, null, 2);
    panel.hidden = false;
  }

  // --- long actions: zip import and clone, with live progress ------------------------------------------
  private wireActions(): void {
    const zipButton = byIdOptional("zip-button");
    const zipInput = byIdOptional("zip-input") as HTMLInputElement | null;
    if (zipButton && zipInput) {
      zipButton.addEventListener("click", () => zipInput.click());
      zipInput.addEventListener("change", () => {
        const file = zipInput.files?.[0];
        zipInput.value = "";
        if (file) void this.importZip(file);
      });
    }
    byIdOptional("clone-button")?.addEventListener("click", () => void this.cloneShown());
  }

  private async importZip(file: File): Promise<void> {
    const form = new FormData();
    form.append("path", this.folder);
    form.append("file", file, file.name);
    const row = this.commandRow(`Importing ${file.name}`);
    try {
      const { body } = await uploadForm<Command>(`/datasets/${this.datasetId}/archive?mode=skip`, form, (loaded, total) =>
        row.update(`Uploading · ${Math.round((100 * loaded) / total)}%`, 0),
      );
      const final = await followCommand(body, (command) => row.update(describe(command), command.progress));
      if (final.status === "success") {
        await this.loadTree();
        await this.reset();
      }
    } catch (error) {
      row.update(`Failed: ${error instanceof Error ? error.message : String(error)}`, 0);
    }
  }

  private async cloneShown(): Promise<void> {
    const name = window.prompt("Name of the new dataset:", "");
    if (!name?.trim()) return;
    const { filter, join } = buildItemQuery({ folder: this.folder, filter: this.userFilter, annotations: this.annotationFilter, afterId: null, pageSize: 1000 });
    const row = this.commandRow(`Cloning into ${name.trim()}`);
    try {
      const command = await api<Command>(`/datasets/${this.datasetId}/clone`, {
        json: {
          name: name.trim(),
          filter: { resource: "items", filter, ...(join ? { join } : {}) },
          cloneDatasetParams: { withMetadata: true, withItemsAnnotations: true },
        },
      });
      const final = await followCommand(command, (next) => row.update(describe(next), next.progress));
      const target = final.spec.returnedModelId;
      if (final.status === "success" && typeof target === "string") row.link(`/datasets/${target}/`, `Open ${name.trim()}`);
    } catch (error) {
      row.update(`Failed: ${error instanceof Error ? error.message : String(error)}`, 0);
    }
  }

  private commandRow(label: string) {
    const li = document.createElement("li");
    const title = document.createElement("span");
    title.className = "command-title";
    title.textContent = label;
    const bar = document.createElement("progress");
    bar.max = 100;
    bar.value = 0;
    bar.setAttribute("aria-label", `${label} progress`);
    const status = document.createElement("span");
    status.className = "command-status";
    status.setAttribute("role", "status");
    li.append(title, bar, status);
    byId("commands").prepend(li);
    return {
      update(text: string, progress: number) {
        status.textContent = text;
        bar.value = text.startsWith("Done") ? 100 : progress;
      },
      link(href: string, text: string) {
        const anchor = document.createElement("a");
        anchor.href = href;
        anchor.textContent = text;
        status.append(" ", anchor);
      },
    };
  }

  // --- upload -----------------------------------------------------------------------------------------------
  private wireUpload(): void {
    const zone = byId("drop-zone");
    const input = byId<HTMLInputElement>("file-input");
    zone.addEventListener("click", () => input.click());
    zone.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        input.click();
      }
    });
    input.addEventListener("change", () => {
      if (input.files?.length) void this.upload([...input.files]);
      input.value = "";
    });
    zone.addEventListener("dragover", (event) => {
      event.preventDefault();
      zone.classList.add("dragging");
    });
    zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
    zone.addEventListener("drop", (event) => {
      event.preventDefault();
      zone.classList.remove("dragging");
      const files = [...(event.dataTransfer?.files ?? [])];
      if (files.length) void this.upload(files);
    });
  }

  private async upload(files: File[]): Promise<void> {
    const bar = byId<HTMLProgressElement>("upload-progress");
    const status = byId("upload-status");
    const total = files.reduce((sum, file) => sum + file.size, 0) || 1;
    const sent = new Map<File, number>();
    const failures: string[] = [];
    const skipped: string[] = [];
    let finished = 0;
    bar.hidden = false;
    bar.value = 0;
    const report = () => {
      const loaded = [...sent.values()].reduce((a, b) => a + b, 0);
      bar.value = Math.round((100 * loaded) / total);
      status.textContent = `Uploaded ${finished} of ${files.length}${failures.length ? ` · ${failures.length} failed` : ""}`;
    };
    const queue = [...files];
    const worker = async () => {
      for (let file = queue.shift(); file; file = queue.shift()) {
        const form = new FormData();
        form.append("type", "file");
        form.append("path", `${this.folder.replace(/\/$/, "")}/${file.name}`);
        form.append("file", file, file.name);
        try {
          const { op } = await uploadForm(`/datasets/${this.datasetId}/items?mode=skip`, form, (loaded) => {
            sent.set(file, loaded);
            report();
          });
          if (op === "skip") skipped.push(file.name);
        } catch (error) {
          failures.push(`${file.name}: ${error instanceof Error ? error.message : String(error)}`);
        }
        sent.set(file, file.size);
        finished += 1;
        report();
      }
    };
    report();
    await Promise.all(Array.from({ length: Math.min(UPLOAD_PARALLEL, files.length) }, worker));
    bar.value = 100;
    const stored = files.length - failures.length - skipped.length;
    status.textContent =
      `Uploaded ${stored} of ${files.length}.` +
      (skipped.length ? ` Skipped, already in this folder: ${skipped.join(", ")}.` : "") +
      (failures.length ? ` Failed: ${failures.join("; ")}` : "");
    await this.loadTree();
    await this.reset();
  }
}

function describe(command: Command): string {
  if (command.status === "failed") return `Failed: ${command.error ?? "unknown error"}`;
  if (command.status !== "success") return `${command.status === "created" ? "Queued" : "Working"} · ${command.progress}%`;
  const spec = command.spec as Record<string, number | unknown[]>;
  if (command.type === "items.archive_upload") {
    return `Done: ${spec.imported} imported, ${spec.skipped} skipped, ${spec.rejectedCount} rejected.`;
  }
  return "Done.";
}

function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`#${id} is missing from the page`);
  return element as T;
}

function byIdOptional(id: string): HTMLElement | null {
  return document.getElementById(id);
}

const browserRoot = document.getElementById("dataset-browser");
if (browserRoot) new DatasetBrowser(browserRoot).start();
