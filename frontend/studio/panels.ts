/**
 * The studio's DOM around the canvas: toolbar, label catalog, classification, object list,
 * attribute form, save state, shortcut help and the conflict dialog. Plain DOM, no framework;
 * every control has an accessible name and a keyboard path.
 */
import type { Attribute } from "../lib/ontology";
import { Mode, MODE_KEYS, MODE_NAMES, TYPE_NAMES, toolOfMode, type Annotation, type Pt } from "./model";
import { icon, type ICONS } from "./icons";
import { attributesFor, missingAttributes } from "./recipe";
import type { ChangeSet } from "./store";
import type { Studio } from "./studio";
import { OWN, type ConflictChoice, type SyncStatus } from "./sync";

const DRAW_MODES = [Mode.Select, Mode.Box, Mode.Polygon, Mode.Polyline, Mode.Point, Mode.Ellipse, Mode.Brush, Mode.Eraser];
const MODE_ICONS: Record<Mode, keyof typeof ICONS> = {
  [Mode.Select]: "select",
  [Mode.Box]: "box",
  [Mode.Polygon]: "segment",
  [Mode.Polyline]: "polyline",
  [Mode.Point]: "point",
  [Mode.Ellipse]: "ellipse",
  [Mode.Brush]: "brush",
  [Mode.Eraser]: "eraser",
  [Mode.Note]: "note",
};
/** The object list shows this many rows; a busy item is better browsed on the canvas. */
const MAX_ROWS = 400;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> & Record<string, unknown> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key.startsWith("aria-") || key.startsWith("data-") || key === "role") node.setAttribute(key, String(value));
    else (node as unknown as Record<string, unknown>)[key] = value;
  }
  node.append(...children);
  return node;
}

export function objectName(a: Annotation, number: number, labelName: string): string {
  if (a.type === "note") return a.parentId ? `Review note ${number}` : `Note pin ${number}`; // a pin: where an object is missing
  return `${labelName} ${TYPE_NAMES[a.type].toLowerCase()} ${number}`;
}

/** An object's name as the object list shows it. */
export function nameOf(studio: Studio, a: Annotation): string {
  return objectName(a, studio.store.keys().indexOf(a.key) + 1, studio.label(a.label)?.name ?? a.label);
}

export class Panels {
  private readonly toolbar: HTMLElement;
  private readonly catalog: HTMLElement;
  private readonly classList: HTMLElement;
  private readonly objectList: HTMLUListElement;
  private readonly attributeForm: HTMLFormElement;
  private readonly saveStatus: HTMLElement;
  private readonly position: HTMLElement;
  private readonly zoom: HTMLElement;
  private readonly toast: HTMLElement;
  private readonly helpDialog: HTMLDialogElement;
  private readonly conflictDialog: HTMLDialogElement;
  private objectsQueued = false;
  /** Whether the object list has been drawn since the item opened (see refreshObjects). */
  private listShown = false;
  private toastTimer = 0;
  private attributesFor: string | null = null;

  constructor(
    private readonly studio: Studio,
    private readonly root: HTMLElement,
  ) {
    const $ = <T extends HTMLElement>(selector: string) => document.querySelector<T>(selector)!;
    this.toolbar = $("#toolbar");
    this.catalog = $("#label-catalog");
    this.classList = $("#class-list");
    this.objectList = $<HTMLUListElement>("#object-list");
    this.attributeForm = $<HTMLFormElement>("#attribute-form");
    this.saveStatus = $("#save-status");
    this.position = $("#pointer-position");
    this.zoom = $("#zoom-level");
    this.helpDialog = $<HTMLDialogElement>("#help-dialog");
    this.conflictDialog = $<HTMLDialogElement>("#conflict-dialog");
    this.toast = el("p", { className: "studio-toast", role: "status", "aria-live": "polite" });
    this.toast.hidden = true;
    root.querySelector(".studio-stage")!.append(this.toast);
    $("#help-button").addEventListener("click", () => this.showHelp());
    this.helpDialog.querySelector("[data-close]")!.addEventListener("click", () => this.helpDialog.close());
    $("#toggle-all").addEventListener("click", () => {
      const keys = this.studio.store.keys();
      this.studio.toggleHidden(keys, this.studio.hidden.size < keys.length);
    });
    this.attributeForm.addEventListener("submit", (event) => event.preventDefault());
    this.buildToolbar();
  }

  /** A dialog is up (help, conflict, history): the studio's shortcuts stay out of it. */
  dialogOpen(): boolean {
    return document.querySelector("dialog[open]") !== null;
  }

  // --- toolbar -----------------------------------------------------------------------------------
  private buildToolbar(): void {
    const tools = el("div", { className: "tool-group", role: "group", "aria-label": "Drawing tools" });
    for (const mode of DRAW_MODES) {
      const key = MODE_KEYS[mode].toUpperCase();
      const button = el(
        "button",
        { type: "button", className: "tool-button", title: `${MODE_NAMES[mode]} (${key})`, "aria-label": MODE_NAMES[mode], "aria-keyshortcuts": key, "aria-pressed": "false", "data-mode": mode },
        icon(MODE_ICONS[mode]),
        el("span", { className: "tool-key", "aria-hidden": "true" }, key),
      );
      button.addEventListener("click", () => this.studio.setMode(mode));
      tools.append(button);
    }
    const edit = el("div", { className: "tool-group", role: "group", "aria-label": "History" });
    const undo = el("button", { type: "button", className: "tool-button", title: "Undo (Ctrl+Z)", "aria-label": "Undo", "aria-keyshortcuts": "Control+Z", id: "undo-button" }, icon("undo"));
    const redo = el("button", { type: "button", className: "tool-button", title: "Redo (Ctrl+Shift+Z)", "aria-label": "Redo", "aria-keyshortcuts": "Control+Shift+Z", id: "redo-button" }, icon("redo"));
    undo.addEventListener("click", () => this.studio.undo());
    redo.addEventListener("click", () => this.studio.redo());
    edit.append(undo, redo);
    const view = el("div", { className: "tool-group", role: "group", "aria-label": "View" });
    const viewButtons: [string, keyof typeof ICONS, string, () => void][] = [
      ["Zoom in", "zoomIn", "+", () => this.studio.zoomAt({ x: this.studio.renderer.viewWidth / 2, y: this.studio.renderer.viewHeight / 2 }, 1.25, false)],
      ["Zoom out", "zoomOut", "-", () => this.studio.zoomAt({ x: this.studio.renderer.viewWidth / 2, y: this.studio.renderer.viewHeight / 2 }, 0.8, false)],
      ["Fit to screen", "fit", "F", () => this.studio.fit()],
      ["Actual size", "actual", "R", () => this.studio.actualSize()],
    ];
    for (const [name, glyph, key, action] of viewButtons) {
      const button = el("button", { type: "button", className: "tool-button", title: `${name} (${key})`, "aria-label": name, "aria-keyshortcuts": key }, icon(glyph));
      button.addEventListener("click", action);
      view.append(button);
    }
    this.toolbar.append(tools, edit, view);
  }

  modeChanged(): void {
    for (const button of this.toolbar.querySelectorAll<HTMLButtonElement>("[data-mode]")) {
      const mode = button.dataset.mode as Mode;
      button.setAttribute("aria-pressed", String(mode === this.studio.mode));
      const label = this.studio.label(this.studio.activeLabel);
      const allowed = mode === Mode.Select || this.studio.recipe.labels.some((l) => l.tools.has(toolOfMode(mode) as never));
      button.disabled = !allowed || (mode !== Mode.Select && !this.studio.canEdit);
      button.classList.toggle("tool-off-label", !!label && mode !== Mode.Select && !label.tools.has(toolOfMode(mode) as never));
    }
    this.root.dataset.mode = this.studio.mode;
    this.labelChanged();
    for (const listener of this.studio.refreshListeners) listener();
  }

  private updateHistoryButtons(): void {
    const history = this.studio.store.history;
    (document.getElementById("undo-button") as HTMLButtonElement).disabled = !history.canUndo;
    (document.getElementById("redo-button") as HTMLButtonElement).disabled = !history.canRedo;
  }

  // --- labels ------------------------------------------------------------------------------------
  loaded(): void {
    this.catalog.replaceChildren();
    if (!this.studio.recipe.labels.length) this.catalog.append(el("p", { className: "muted" }, "This dataset's recipe has no labels yet."));
    for (const label of this.studio.recipe.labels) {
      const button = el(
        "button",
        {
          type: "button",
          role: "radio",
          className: "label-button",
          "aria-checked": "false",
          "aria-label": label.name,
          "data-tag": label.tag,
          title: label.hotkey ? `${label.name} (${label.hotkey})` : label.name,
        },
        el("span", { className: "swatch", "aria-hidden": "true" }),
        el("span", { className: "label-name" }, label.name),
        label.hotkey ? el("kbd", { "aria-hidden": "true" }, label.hotkey) : "",
      );
      if (label.hotkey) button.setAttribute("aria-keyshortcuts", label.hotkey);
      button.style.setProperty("--label-color", label.color);
      button.style.paddingLeft = `${0.5 + label.depth * 1}rem`;
      button.addEventListener("click", () => this.studio.setLabel(label.tag));
      button.addEventListener("keydown", (event) => this.rovingKeys(event));
      this.catalog.append(button);
    }
    const classLabels = this.studio.recipe.labels.filter((l) => l.tools.has("class"));
    this.root.querySelector<HTMLElement>("#class-panel")!.hidden = !classLabels.length;
    this.classList.replaceChildren(
      ...classLabels.map((label) => {
        const input = el("input", { type: "checkbox", name: "class", value: label.tag, disabled: !this.studio.canEdit });
        input.addEventListener("change", () => this.studio.setClass(label.tag, input.checked));
        const swatch = el("span", { className: "swatch", "aria-hidden": "true" });
        swatch.style.setProperty("--label-color", label.color);
        return el("label", { className: "class-option" }, input, swatch, label.name);
      }),
    );
    this.labelChanged();
    this.refreshObjects();
    this.updateHistoryButtons();
    document.getElementById("loading")!.hidden = true;
    this.renderShortcuts();
  }

  /** Arrow keys move between labels, as in any radio group. */
  private rovingKeys(event: KeyboardEvent): void {
    const step = event.key === "ArrowDown" || event.key === "ArrowRight" ? 1 : event.key === "ArrowUp" || event.key === "ArrowLeft" ? -1 : 0;
    if (!step) return;
    event.preventDefault();
    event.stopPropagation();
    const buttons = [...this.catalog.querySelectorAll<HTMLButtonElement>("[role=radio]")];
    const next = buttons[(buttons.indexOf(event.currentTarget as HTMLButtonElement) + step + buttons.length) % buttons.length];
    next.focus();
    next.click();
  }

  labelChanged(): void {
    for (const button of this.catalog.querySelectorAll<HTMLButtonElement>("[role=radio]")) {
      const checked = button.dataset.tag === this.studio.activeLabel;
      button.setAttribute("aria-checked", String(checked));
      button.tabIndex = checked ? 0 : -1;
      const label = this.studio.label(button.dataset.tag!);
      button.classList.toggle("label-off-tool", this.studio.mode !== Mode.Select && this.studio.mode !== Mode.Note && !!label && !label.tools.has(toolOfMode(this.studio.mode) as never));
    }
  }

  // --- objects -------------------------------------------------------------------------------------
  changed(set: ChangeSet): void {
    if (set.source === "remote" && set.label !== OWN && set.changes.length && this.studio.store.size) this.announceRemote(set);
    this.refreshObjects();
  }

  private announceRemote(set: ChangeSet): void {
    if (!this.root.dataset.ready) return;
    const n = set.changes.length;
    this.announce(`${n} change${n === 1 ? "" : "s"} from someone else arrived.`);
  }

  selectionChanged(): void {
    this.refreshObjects();
  }

  /** Redraw the list and the attribute form at the next frame (many changes make one redraw). */
  refreshObjects(): void {
    if (this.objectsQueued) return;
    this.objectsQueued = true;
    // When an item opens, the canvas goes first: building hundreds of rows (and the page's style
    // and layout for them) took a whole frame, so the list waits until every shape is on screen.
    const due = this.listShown
      ? Promise.resolve()
      : Promise.race([this.studio.renderer.whenSettled(), new Promise<void>((go) => setTimeout(go, 1000))]).then(
          () => new Promise<void>((go) => setTimeout(go, 0)),
        );
    void due.then(() => requestAnimationFrame(() => {
      this.objectsQueued = false;
      this.listShown = true;
      this.renderObjects();
      this.renderAttributes();
      this.renderClasses();
      this.updateHistoryButtons();
      for (const listener of this.studio.refreshListeners) listener();
    }));
  }

  private labelName(tag: string): string {
    return this.studio.label(tag)?.name ?? tag;
  }

  private renderObjects(): void {
    const { studio } = this;
    const all = studio.store.all();
    document.getElementById("object-count")!.textContent = `(${all.length})`;
    const toggleAll = document.getElementById("toggle-all")!;
    const allHidden = all.length > 0 && studio.hidden.size >= all.length;
    toggleAll.textContent = allHidden ? "Show all" : "Hide all";
    const rows: HTMLLIElement[] = [];
    const focusedKey = (document.activeElement as HTMLElement | null)?.closest<HTMLElement>("[data-key]")?.dataset.key;
    const focusedRole = (document.activeElement as HTMLElement | null)?.dataset.action;
    all.slice(0, MAX_ROWS).forEach((a, i) => rows.push(this.objectRow(a, i + 1)));
    if (all.length > MAX_ROWS) rows.push(el("li", { className: "muted object-more" }, `and ${all.length - MAX_ROWS} more on the canvas`));
    if (!all.length) rows.push(el("li", { className: "muted object-empty" }, studio.canEdit ? "No objects yet: pick a label and draw." : "No objects."));
    this.objectList.replaceChildren(...rows);
    if (focusedKey && focusedRole) this.objectList.querySelector<HTMLElement>(`[data-key="${CSS.escape(focusedKey)}"] [data-action="${focusedRole}"]`)?.focus();
  }

  private objectRow(a: Annotation, number: number): HTMLLIElement {
    const { studio } = this;
    const name = objectName(a, number, this.labelName(a.label));
    const selected = studio.selected.has(a.key);
    const hidden = studio.hidden.has(a.key);
    const locked = studio.locked.has(a.key);
    const missing = a.type === "note" ? [] : missingAttributes(studio.recipe.attributes, a.label, a.attributes);
    const row = el("li", { className: `object-row${selected ? " selected" : ""}${hidden ? " hidden-object" : ""}`, "data-key": a.key });
    row.style.setProperty("--label-color", studio.label(a.label)?.color ?? "#adb5bd");
    const select = el(
      "button",
      { type: "button", className: "object-name", "aria-pressed": String(selected), "data-action": "select", title: a.status ? `Review: ${a.status}` : "" },
      el("span", { className: "swatch", "aria-hidden": "true" }),
      el("span", {}, name),
    );
    if (missing.length) select.setAttribute("aria-description", `Missing required attributes: ${missing.map((m) => m.title || m.key).join(", ")}`);
    if (missing.length) select.append(el("span", { className: "badge-missing", title: `Missing: ${missing.map((m) => m.title).join(", ")}`, "aria-hidden": "true" }, "!"));
    if (a.status) select.append(el("span", { className: `badge-status status-${a.status}`, "aria-hidden": "true" }, a.status));
    select.addEventListener("click", (event) => {
      if (event.shiftKey) {
        const next = new Set(studio.selected);
        if (next.has(a.key)) next.delete(a.key);
        else next.add(a.key);
        studio.select(next);
      } else studio.select([a.key]);
    });
    const actions = el("span", { className: "object-actions" });
    const eye = el("button", { type: "button", className: "icon-button", "data-action": "visibility", "aria-label": `${hidden ? "Show" : "Hide"} ${name}`, title: hidden ? "Show" : "Hide" }, icon(hidden ? "eyeOff" : "eye"));
    eye.addEventListener("click", () => studio.toggleHidden([a.key]));
    const lock = el("button", { type: "button", className: "icon-button", "data-action": "lock", "aria-label": `${locked ? "Unlock" : "Lock"} ${name}`, "aria-pressed": String(locked), title: locked ? "Unlock" : "Lock" }, icon(locked ? "lock" : "unlock"));
    lock.addEventListener("click", () => studio.toggleLocked(a.key));
    const remove = el("button", { type: "button", className: "icon-button danger", "data-action": "delete", "aria-label": `Delete ${name}`, title: "Delete", disabled: !studio.canEdit || locked }, icon("trash"));
    remove.addEventListener("click", () => studio.store.remove([a.key], "Delete"));
    actions.append(eye, lock, remove);
    row.append(select, actions);
    if (selected && studio.selected.size === 1 && studio.canEdit && a.type !== "note") {
      const choices = studio.recipe.labels.filter((l) => l.tools.has(a.type as never) || l.tag === a.label);
      const picker = el("select", { className: "object-label", "data-action": "label", "aria-label": `Label of ${name}`, disabled: locked });
      for (const l of choices) picker.append(el("option", { value: l.tag, selected: l.tag === a.label }, l.name));
      picker.addEventListener("change", () => studio.relabel([a.key], picker.value));
      row.append(el("label", { className: "object-label-row" }, el("span", { className: "muted" }, "Label"), picker));
      const keys = studio.store.keys();
      const position = keys.indexOf(a.key);
      const forward = el("button", { type: "button", className: "icon-button", "aria-label": "Bring forward", "aria-keyshortcuts": "Control+]", title: "Bring forward (Ctrl+])", disabled: position === keys.length - 1 }, icon("forward"));
      const backward = el("button", { type: "button", className: "icon-button", "aria-label": "Send backward", "aria-keyshortcuts": "Control+[", title: "Send backward (Ctrl+[)", disabled: position === 0 }, icon("backward"));
      forward.addEventListener("click", () => studio.restack(1));
      backward.addEventListener("click", () => studio.restack(-1));
      const tools = el("div", { className: "object-tools" }, el("span", { className: "muted" }, "Order"), forward, backward);
      if (a.type === "segment" && studio.label(a.label)?.tools.has("binary" as never)) {
        const fill = el("button", { type: "button", className: "object-tool-text", "aria-keyshortcuts": "Shift+M", title: "Fill the polygon into a new mask (Shift+M)" }, icon("mask"), el("span", {}, "Fill as mask"));
        fill.addEventListener("click", () => studio.fillAsMask());
        tools.append(fill);
      }
      row.append(tools);
    }
    return row;
  }

  scrollToSelected(): void {
    requestAnimationFrame(() => this.objectList.querySelector(".object-row.selected")?.scrollIntoView({ block: "nearest" }));
  }

  private renderClasses(): void {
    const on = new Set(this.studio.store.all().filter((a) => a.type === "class").map((a) => a.label));
    for (const input of this.classList.querySelectorAll<HTMLInputElement>("input[type=checkbox]")) input.checked = on.has(input.value);
  }

  // --- attributes ----------------------------------------------------------------------------------
  private renderAttributes(): void {
    const { studio } = this;
    const form = this.attributeForm;
    const single = studio.selected.size === 1 ? studio.store.get([...studio.selected][0]) : undefined;
    if (!single) {
      this.attributesFor = null;
      form.replaceChildren(el("p", { className: "muted" }, studio.selected.size > 1 ? `${studio.selected.size} objects selected.` : "Select an object to see its attributes."));
      return;
    }
    // Rebuilding the form under the user's cursor would lose focus: update values in place when the same object is shown.
    const definitions = attributesFor(studio.recipe.attributes, single.label);
    const signature = `${single.key}|${single.label}`;
    const index = studio.store.keys().indexOf(single.key) + 1;
    if (this.attributesFor === signature && form.contains(document.activeElement)) {
      this.fillAttributeValues(single, definitions);
      return;
    }
    this.attributesFor = signature;
    const heading = el("p", { className: "attribute-target" }, objectName(single, index, this.labelName(single.label)));
    if (single.type === "note") {
      form.replaceChildren(heading, el("p", { className: "muted" }, "A reviewer's note has no attributes: its messages are under Review."));
      return;
    }
    if (!definitions.length) {
      form.replaceChildren(heading, el("p", { className: "muted" }, "No attributes for this label."));
      return;
    }
    form.replaceChildren(heading, ...definitions.map((d) => this.attributeField(single, d)));
    this.fillAttributeValues(single, definitions);
  }

  private attributeField(a: Annotation, d: Attribute): HTMLElement {
    const id = `attr-${d.key}`;
    const required = d.optional === false;
    const title = el("span", { className: "attribute-title" }, d.title || d.key);
    if (required) title.append(el("span", { className: "required-mark", title: "Required", "aria-hidden": "true" }, " *"), el("span", { className: "visually-hidden" }, " (required)"));
    const disabled = !this.studio.canEdit || this.studio.locked.has(a.key);
    const set = (value: unknown) => this.studio.setAttribute(a.key, d.key, value);
    const wrap = el("div", { className: "attribute-field", "data-attribute": d.key });
    if (d.type === "options" && d.multi) {
      const fieldset = el("fieldset", {}, el("legend", {}, title));
      for (const value of d.values ?? []) {
        const box = el("input", { type: "checkbox", value, name: d.key, disabled });
        box.addEventListener("change", () => set([...fieldset.querySelectorAll<HTMLInputElement>("input:checked")].map((i) => i.value)));
        fieldset.append(el("label", { className: "inline" }, box, value));
      }
      wrap.append(fieldset);
    } else if (d.type === "options") {
      const select = el("select", { id, name: d.key, disabled, required });
      select.append(el("option", { value: "" }, "—"), ...(d.values ?? []).map((v) => el("option", { value: v }, v)));
      select.addEventListener("change", () => set(select.value || null));
      wrap.append(el("label", { htmlFor: id }, title), select);
    } else if (d.type === "boolean") {
      const box = el("input", { type: "checkbox", id, name: d.key, role: "switch", disabled });
      box.addEventListener("change", () => set(box.checked));
      wrap.append(el("label", { className: "inline", htmlFor: id }, box, title));
    } else if (d.type === "range") {
      const range = d.range ?? { min: 0, max: 100, step: 1 };
      const input = el("input", { type: "range", id, name: d.key, min: String(range.min), max: String(range.max), step: String(range.step || 1), disabled });
      const output = el("output", { className: "range-value", "aria-live": "off" });
      output.setAttribute("for", id);
      const clear = el("button", { type: "button", className: "icon-button", "aria-label": `Clear ${d.title || d.key}`, title: "Clear", disabled }, "✕");
      input.addEventListener("input", () => (output.textContent = input.value));
      input.addEventListener("change", () => set(Number(input.value)));
      clear.addEventListener("click", () => set(null));
      wrap.append(el("label", { htmlFor: id }, title, " ", output), el("div", { className: "range-row" }, input, clear));
    } else {
      const input = el("input", { type: "text", id, name: d.key, disabled, required, autocomplete: "off" });
      input.addEventListener("change", () => set(input.value.trim() || null));
      input.addEventListener("keydown", (event) => {
        if (event.key === "Enter") input.blur();
        if (event.key === "Escape") {
          this.fillAttributeValues(a, [d]);
          input.blur();
        }
      });
      wrap.append(el("label", { htmlFor: id }, title), input);
    }
    return wrap;
  }

  private fillAttributeValues(a: Annotation, definitions: Attribute[]): void {
    const current = this.studio.store.get(a.key) ?? a;
    for (const d of definitions) {
      const wrap = this.attributeForm.querySelector<HTMLElement>(`[data-attribute="${CSS.escape(d.key)}"]`);
      if (!wrap) continue;
      const value = current.attributes[d.key];
      const missing = d.optional === false && (value === undefined || value === null || value === "" || (Array.isArray(value) && !value.length));
      wrap.classList.toggle("missing", missing);
      const control = wrap.querySelector<HTMLInputElement | HTMLSelectElement>("input, select");
      control?.setAttribute("aria-invalid", String(missing));
      if (d.type === "options" && d.multi) {
        const values = Array.isArray(value) ? value : [];
        for (const box of wrap.querySelectorAll<HTMLInputElement>("input")) box.checked = values.includes(box.value);
      } else if (d.type === "boolean") {
        (control as HTMLInputElement).checked = value === true;
      } else if (d.type === "range") {
        const range = d.range ?? { min: 0, max: 100, step: 1 };
        const input = control as HTMLInputElement;
        input.value = String(typeof value === "number" ? value : range.min);
        wrap.querySelector("output")!.textContent = typeof value === "number" ? String(value) : "not set";
      } else if (control && document.activeElement !== control) {
        control.value = value === undefined || value === null ? "" : String(value);
      }
    }
  }

  // --- status ------------------------------------------------------------------------------------
  showSaveStatus(status: SyncStatus): void {
    this.saveStatus.textContent = status.message;
    this.saveStatus.dataset.state = status.state;
  }

  pointerAt(p: Pt | null, width: number, height: number): void {
    if (!p || p.x < 0 || p.y < 0 || p.x >= width || p.y >= height) {
      this.position.textContent = "x —, y —";
      return;
    }
    this.position.textContent = `x ${Math.floor(p.x)}, y ${Math.floor(p.y)}`;
  }

  zoomChanged(): void {
    this.zoom.textContent = `${Math.round(this.studio.viewport.scale * 100)}%`;
  }

  /** Another item opened in place: the header, the tab's title and the footer follow. */
  itemOpened(item: { name: string; filename?: string; metadata: { system: { width?: number; height?: number } } }): void {
    this.listShown = false;
    const title = this.root.querySelector<HTMLElement>(".studio-title");
    if (title) {
      title.textContent = item.name;
      title.title = item.filename ?? item.name;
    }
    document.title = `${item.name} · Studio · Annotator`;
    const size = document.getElementById("image-size");
    if (size) size.textContent = `${item.metadata.system.width ?? "?"} × ${item.metadata.system.height ?? "?"} px`;
    this.attributesFor = null;
    this.refreshObjects();
    this.updateHistoryButtons();
  }

  imageLoaded(full: boolean): void {
    this.root.dataset.image = full ? "full" : "thumbnail";
  }

  announce(message: string): void {
    this.toast.textContent = message;
    this.toast.hidden = false;
    window.clearTimeout(this.toastTimer);
    this.toastTimer = window.setTimeout(() => (this.toast.hidden = true), 3500);
  }

  // --- dialogs -------------------------------------------------------------------------------------
  showHelp(): void {
    if (!this.helpDialog.open) this.helpDialog.showModal();
  }

  private renderShortcuts(): void {
    const rows: [string, string][] = [
      ...DRAW_MODES.map((m): [string, string] => [MODE_KEYS[m].toUpperCase(), `${MODE_NAMES[m]} tool`]),
      [MODE_KEYS[Mode.Note].toUpperCase(), "In a review: drop a note where an object is missing"],
      ...this.studio.recipe.labels.filter((l) => l.hotkey).map((l): [string, string] => [l.hotkey!, `Draw with ${l.name}; with the Select tool, relabel the selection`]),
      ["Click, drag", "Select, move; drag a handle to resize or move a point"],
      ["Shift+click, drag on empty canvas", "Add to the selection; select with a marquee"],
      ["Alt+click", "On a selected polygon's edge: add a point; on a point: remove it"],
      ["Drag the round handle", "Rotate the selected box or ellipse (Shift: 15° steps)"],
      [", / . (Shift: 1°)", "Rotate the selected box or ellipse by 15°"],
      ["Hold and drag", "With the Polygon or Polyline tool: draw freehand"],
      ["Enter", "Finish the polygon or polyline"],
      ["[ / ]", "Brush or eraser smaller / larger"],
      ["Backspace", "Remove the last point while drawing; else delete the selection"],
      ["Delete", "Delete the selection"],
      ["Escape", "Cancel the drawing, then clear the selection"],
      ["Arrow keys (Shift: ×10)", "Nudge the selection by a pixel"],
      ["Tab / Shift+Tab on the canvas", "Select the next or previous object"],
      ["Ctrl+Z / Ctrl+Shift+Z", "Undo / redo your own changes"],
      ["Ctrl+C / Ctrl+V", "Copy / paste the selection; Ctrl+V on another item pastes in place"],
      ["Ctrl+A", "Select every object"],
      ["Ctrl+] / Ctrl+[", "Bring the selection forward / send it backward"],
      ["Shift+M", "Fill the selected polygon into a new mask"],
      ["H / Shift+H", "Hide or show the selection / everything"],
      ["Wheel", "Zoom at the cursor"],
      ["Space+drag, middle drag", "Pan"],
      ["F / R / + / −", "Fit, actual size (1:1), zoom in, zoom out"],
      ["?", "This help"],
    ];
    const table = this.helpDialog.querySelector("table")!;
    table.replaceChildren(
      el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Keys"), el("th", { scope: "col" }, "Does"))),
      el("tbody", {}, ...rows.map(([keys, does]) => el("tr", {}, el("td", {}, el("kbd", {}, keys)), el("td", {}, does)))),
    );
  }

  askConflict(mine: Annotation | null, theirs: Annotation): Promise<ConflictChoice> {
    const describe = (a: Annotation | null) => {
      if (!a) return "Deleted";
      const attributes = Object.entries(a.attributes).map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`).join("\n");
      return `${this.labelName(a.label)} ${TYPE_NAMES[a.type].toLowerCase()}\n${summary(a)}${attributes ? `\nattributes:\n${attributes}` : ""}`;
    };
    document.getElementById("conflict-text")!.textContent = `While you edited this ${TYPE_NAMES[theirs.type].toLowerCase()}, someone else saved a change to it. Keep your version, or take theirs?`;
    document.getElementById("conflict-mine")!.textContent = describe(mine);
    document.getElementById("conflict-theirs")!.textContent = describe(theirs);
    const dialog = this.conflictDialog;
    return new Promise((resolve) => {
      const done = (choice: ConflictChoice) => {
        mineButton.removeEventListener("click", keep);
        theirsButton.removeEventListener("click", take);
        dialog.removeEventListener("cancel", cancel);
        dialog.close();
        resolve(choice);
      };
      const keep = () => done("mine");
      const take = () => done("theirs");
      // Escape must not drop either version silently: it keeps the user's own.
      const cancel = (event: Event) => {
        event.preventDefault();
        done("mine");
      };
      const mineButton = document.getElementById("conflict-mine-button")!;
      const theirsButton = document.getElementById("conflict-theirs-button")!;
      mineButton.addEventListener("click", keep);
      theirsButton.addEventListener("click", take);
      dialog.addEventListener("cancel", cancel);
      dialog.showModal();
    });
  }
}

function summary(a: Annotation): string {
  const g = a.geometry;
  const r = (v: number) => Math.round(v);
  switch (g.kind) {
    case "box":
      return `from (${r(g.x1)}, ${r(g.y1)}) to (${r(g.x2)}, ${r(g.y2)})`;
    case "segment":
    case "polyline": {
      const points = (g.kind === "segment" ? g.rings : g.lines).flat();
      return `${points.length} points, first at (${r(points[0]?.x ?? 0)}, ${r(points[0]?.y ?? 0)})`;
    }
    case "point":
      return `at (${r(g.p.x)}, ${r(g.p.y)})`;
    case "ellipse":
      return `centre (${r(g.cx)}, ${r(g.cy)}), radii ${r(g.rx)} × ${r(g.ry)}`;
    default:
      return "";
  }
}
