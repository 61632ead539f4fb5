/**
 * The recipe editor: the label tree of the recipe's (first) ontology, its attributes, the tools
 * allowed per label, and the recipe's title and instructions.
 *
 * Every change is one API call whose reply is the whole ontology or recipe, which then replaces
 * what the page shows; so the page never guesses what the server did (hotkeys and colours it
 * handed out, attribute scopes it pruned). Writes go one at a time for the same reason.
 */
import "./ontology.css";

import { ApiError, api } from "../lib/api";
import {
  ALL_LABELS,
  ATTRIBUTE_TYPE_NAMES,
  TOOLS,
  TOOL_NAMES,
  TOOL_SHORT_NAMES,
  buildAttribute,
  changeLabel,
  deriveKey,
  describeAttribute,
  flattenLabels,
  joinTag,
  migrateLabelTools,
  moveLabel,
  nextColor,
  normaliseHotkey,
  normaliseLabelTools,
  pickLabelTools,
  removeLabel,
  renameInScopes,
  renameTag,
  renamedPath,
  sameLabelTools,
  siblingPosition,
  tagProblem,
  toolsFor,
  type Attribute,
  type AttributeType,
  type LabelNode,
  type LabelTools,
  type Ontology,
  type Recipe,
  type Tool,
} from "../lib/ontology";

/** A mistake the page catches before asking the server; shown like the server's own errors. */
class InputError extends Error {
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

// Where an error's `details.field` points to a differently named input.
const FIELD_INPUTS: Record<string, string> = { range: "min", displayLabel: "displayLabel", scope: "scopeMode" };

class RecipeEditor {
  private recipe!: Recipe;
  private ontology!: Ontology;
  private readonly recipeId: string;
  private readonly canEditOntology: boolean;
  private readonly canEditRecipe: boolean;
  /** The full tag of the label whose edit form is open. */
  private editingLabel: string | null = null;
  /** The key of the attribute in the form, when it edits one rather than adding. */
  private editingAttribute: string | null = null;
  /** Ticked tools per label, saved or not. */
  private toolChoices = new Map<string, Set<Tool>>();
  private busy = false;

  constructor(private readonly root: HTMLElement) {
    this.recipeId = root.dataset.recipeId ?? "";
    this.canEditOntology = root.dataset.canEditOntology === "true";
    this.canEditRecipe = root.dataset.canEditRecipe === "true";
  }

  async start(): Promise<void> {
    byId("editor-alert-close").addEventListener("click", () => this.hideError());
    try {
      this.recipe = await api<Recipe>(`/recipes/${this.recipeId}`);
      const ontologyId = this.recipe.ontologyIds[0];
      if (!ontologyId) throw new Error("This recipe has no ontology to edit.");
      this.ontology = await api<Ontology>(`/ontologies/${ontologyId}`);
    } catch (error) {
      byId("editor-loading").hidden = true;
      this.showError(error);
      return;
    }
    this.resetToolChoices();
    if (this.canEditOntology) {
      this.wireLabelForm();
      this.wireAttributeForm();
    }
    if (this.canEditRecipe) this.wireRecipeForms();
    this.showOntologyNote();
    this.fillRecipe();
    this.render();
    byId("editor-loading").hidden = true;
    byId("editor-columns").hidden = false;
  }

  private get ontologyPath(): string {
    return `/ontologies/${this.ontology.id}`;
  }

  private tags(): string[] {
    return flattenLabels(this.ontology.roots).map((label) => label.path);
  }

  private render(): void {
    this.renderLabels();
    this.renderAttributes();
    this.renderScopeChoices();
    this.renderTools();
  }

  private showOntologyNote(): void {
    const count = this.recipe.ontologyIds.length;
    if (count < 2) return;
    const note = byId("ontology-note");
    note.textContent = `This recipe uses ${count} ontologies; this page shows and edits the first, “${this.ontology.title}”.`;
    note.hidden = false;
  }

  // --- messages ------------------------------------------------------------------------------------
  /** Run one write: a busy button, then a success status or the error in the alert. */
  private async run(button: HTMLElement | null, form: HTMLFormElement | null, action: () => Promise<string>): Promise<boolean> {
    if (this.busy) return false;
    this.busy = true;
    button?.setAttribute("aria-busy", "true");
    try {
      const message = await action();
      this.hideError();
      this.say(message);
      return true;
    } catch (error) {
      this.say("");
      this.showError(error, form);
      return false;
    } finally {
      this.busy = false;
      button?.removeAttribute("aria-busy");
    }
  }

  private say(message: string): void {
    byId("editor-status").textContent = message ? `✓ ${message}` : "";
  }

  private showError(error: unknown, form: HTMLFormElement | null = null): void {
    let message: string;
    let field: string | undefined;
    if (error instanceof ApiError) {
      message = error.status === 0 ? "Could not reach the server; try again." : error.message;
      const details = error.details as { field?: unknown } | undefined;
      if (typeof details?.field === "string") field = details.field.split(".").at(-1);
    } else if (error instanceof InputError) {
      message = error.message;
      field = error.field;
    } else if (error instanceof TypeError) {
      message = "Could not reach the server; check the connection and try again.";
    } else {
      message = error instanceof Error ? error.message : String(error);
    }
    byId("editor-alert-text").textContent = message;
    byId("editor-alert").hidden = false;
    const input = field && form ? form.querySelector<HTMLElement>(`[name="${FIELD_INPUTS[field] ?? field}"]`) : null;
    if (input) {
      input.setAttribute("aria-invalid", "true");
      input.focus();
    }
  }

  private hideError(): void {
    byId("editor-alert").hidden = true;
    byId("editor-alert-text").textContent = "";
    this.root.querySelectorAll("[aria-invalid]").forEach((input) => input.removeAttribute("aria-invalid"));
  }

  // --- labels ----------------------------------------------------------------------------------------
  private renderLabels(): void {
    const build = (nodes: LabelNode[], parent: string): HTMLLIElement[] =>
      nodes.map((node) => this.labelItem(node, joinTag(parent, node.value.tag), build));
    byId("label-tree").replaceChildren(...build(this.ontology.roots, ""));
    const count = this.tags().length;
    byId("label-count").textContent = count === 1 ? "1 label" : `${count} labels`;
    byId("labels-empty").hidden = count > 0;
  }

  private labelItem(node: LabelNode, path: string, build: (nodes: LabelNode[], parent: string) => HTMLLIElement[]): HTMLLIElement {
    const value = node.value;
    const li = document.createElement("li");
    const row = element("div", "label-row");
    row.setAttribute("role", "group");
    row.setAttribute("aria-label", `Label ${path}`);
    const name = element("span", "label-name");
    name.append(swatch(value.color), element("strong", "", value.displayLabel || value.tag));
    if ((value.displayLabel || value.tag) !== path) name.append(element("code", "label-path", path));
    row.append(name);
    if (value.hotkey) {
      const hotkey = element("span", "label-hotkey");
      hotkey.title = "Hotkey";
      hotkey.append(element("span", "visually-hidden", "hotkey "), element("kbd", "", value.hotkey));
      row.append(hotkey);
    }
    if (this.canEditOntology) {
      const actions = element("span", "row-actions");
      const edit = button("Edit", `Edit ${path}`, "secondary outline compact");
      edit.setAttribute("aria-expanded", String(this.editingLabel === path));
      edit.dataset.editLabel = path;
      edit.addEventListener("click", () => this.toggleLabelEdit(path));
      const remove = button("Delete", `Delete ${path}`, "danger compact");
      remove.addEventListener("click", () => void this.deleteLabel(path, remove));
      actions.append(edit, remove);
      row.append(actions);
    }
    li.append(row);
    if (this.editingLabel === path) li.append(this.labelEditForm(node, path));
    if (node.children.length) {
      const group = element("ul", "label-children");
      group.append(...build(node.children, path));
      li.append(group);
    }
    return li;
  }

  private toggleLabelEdit(path: string): void {
    this.editingLabel = this.editingLabel === path ? null : path;
    this.renderLabels();
    if (this.editingLabel) byId<HTMLInputElement>("edit-label-display").focus();
    else this.focusLabelButton(path);
  }

  private focusLabelButton(path: string): void {
    const target = [...document.querySelectorAll<HTMLButtonElement>("button[data-edit-label]")].find(
      (candidate) => candidate.dataset.editLabel === path,
    );
    (target ?? byId("new-label-tag")).focus();
  }

  private labelEditForm(node: LabelNode, path: string): HTMLFormElement {
    const value = node.value;
    const form = element("form", "label-edit");
    form.noValidate = true;
    form.setAttribute("aria-label", `Edit label ${path}`);
    const grid = element("div", "form-grid");
    grid.append(
      field("Tag", input("tag", "edit-label-tag", value.tag, { maxLength: 100, spellcheck: false })),
      field("Display label", input("displayLabel", "edit-label-display", value.displayLabel, { maxLength: 200 })),
      field("Colour", input("color", "edit-label-color", value.color, { type: "color" })),
      field("Hotkey", input("hotkey", "edit-label-hotkey", value.hotkey ?? "", { maxLength: 1, spellcheck: false }), "field-hotkey"),
    );
    const position = siblingPosition(this.ontology.roots, path);
    const actions = element("div", "form-actions");
    const save = button("Save", null, "compact");
    save.type = "submit";
    const cancel = button("Cancel", null, "secondary outline compact");
    cancel.addEventListener("click", () => this.toggleLabelEdit(path));
    const up = button("Move up", `Move ${path} up`, "secondary outline compact");
    up.disabled = position.first;
    up.addEventListener("click", () => void this.moveLabel(path, -1, up));
    const down = button("Move down", `Move ${path} down`, "secondary outline compact");
    down.disabled = position.last;
    down.addEventListener("click", () => void this.moveLabel(path, 1, down));
    actions.append(save, cancel, element("span", "spacer"), up, down);
    form.append(grid, actions);
    form.addEventListener("input", (event) => (event.target as HTMLElement).removeAttribute("aria-invalid"));
    form.addEventListener("keydown", (event) => {
      if (event.key === "Escape") this.toggleLabelEdit(path);
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      void this.saveLabel(node, path, form, save);
    });
    return form;
  }

  private wireLabelForm(): void {
    const form = byId<HTMLFormElement>("label-add-form");
    form.addEventListener("input", (event) => (event.target as HTMLElement).removeAttribute("aria-invalid"));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      void this.addLabel(form);
    });
    byId<HTMLInputElement>("new-label-color").value = nextColor(this.ontology.roots);
  }

  private async addLabel(form: HTMLFormElement): Promise<void> {
    const tagInput = byId<HTMLInputElement>("new-label-tag");
    const hotkeyInput = byId<HTMLInputElement>("new-label-hotkey");
    const colorInput = byId<HTMLInputElement>("new-label-color");
    const tag = tagInput.value.trim().replace(/\s*\.\s*/g, ".");
    let added = false;
    const done = await this.run(form.querySelector("button[type=submit]"), form, async () => {
      const problem = tagProblem(tag);
      if (problem) throw new InputError(problem, "tag");
      if (this.tags().includes(tag)) throw new InputError(`Label '${tag}' already exists; edit it instead.`, "tag");
      const entry: Record<string, unknown> = { tag, color: colorInput.value };
      const hotkey = normaliseHotkey(hotkeyInput.value);
      if (hotkey) entry.hotkey = hotkey;
      // addLabels, not an upsert: a label someone else added meanwhile is a 409, not overwritten.
      this.ontology = await api<Ontology>(`${this.ontologyPath}/addLabels`, { method: "PATCH", json: { labelsNode: [entry] } });
      added = true;
      const label = flattenLabels(this.ontology.roots).find((candidate) => candidate.path === tag);
      return label?.value.hotkey ? `Label ${tag} added with hotkey ${label.value.hotkey}.` : `Label ${tag} added.`;
    });
    if (added) this.render();
    if (done) {
      tagInput.value = "";
      hotkeyInput.value = "";
      colorInput.value = nextColor(this.ontology.roots);
      tagInput.focus();
    }
  }

  private async saveLabel(node: LabelNode, path: string, form: HTMLFormElement, save: HTMLButtonElement): Promise<void> {
    const read = (name: string) => (form.elements.namedItem(name) as HTMLInputElement).value.trim();
    const tag = read("tag");
    const color = read("color");
    const hotkey = normaliseHotkey(read("hotkey"));
    let displayLabel = read("displayLabel");
    let newPath = path;
    let changed = false;
    const done = await this.run(save, form, async () => {
      const problem = tagProblem(tag);
      if (problem) throw new InputError(problem, "tag");
      if (tag === node.value.tag) {
        const entry: Record<string, unknown> = { tag: path, color, displayLabel: displayLabel || tag };
        if (hotkey) entry.hotkey = hotkey;
        // upsert false: a label deleted meanwhile is an error, not quietly made again.
        this.ontology = await api<Ontology>(`${this.ontologyPath}/labels`, {
          method: "PATCH",
          json: { labelsNode: [entry], upsert: false },
        });
        changed = true;
        return `Label ${path} saved.`;
      }
      if (tag.includes(".")) throw new InputError("Renaming keeps a label where it is, so the new tag cannot contain dots.", "tag");
      const before = this.tags();
      newPath = renamedPath(path, tag);
      if (this.tags().includes(newPath)) throw new InputError(`Label '${newPath}' already exists.`, "tag");
      // A display label that only repeated the old tag follows the new one.
      if (!displayLabel || displayLabel === node.value.tag) displayLabel = tag;
      const roots = changeLabel(this.ontology.roots, path, { tag, displayLabel, color, hotkey: hotkey ?? node.value.hotkey });
      // A rename is a PUT of the whole tree; attribute scopes move with the label in the same request.
      const attributes = renameInScopes(this.ontology.attributes, path, newPath);
      this.ontology = await api<Ontology>(this.ontologyPath, { method: "PUT", json: { roots, attributes } });
      changed = true;
      this.moveToolChoices(path, newPath);
      await this.syncLabelTools(before, { from: path, to: newPath });
      return `Label ${path} renamed to ${newPath}.`;
    });
    if (changed) {
      if (done) this.editingLabel = null;
      else if (this.editingLabel === path) this.editingLabel = newPath;
      this.render();
    }
    if (done) this.focusLabelButton(newPath);
  }

  private async moveLabel(path: string, delta: number, trigger: HTMLButtonElement): Promise<void> {
    let moved = false;
    await this.run(trigger, null, async () => {
      const roots = moveLabel(this.ontology.roots, path, delta);
      this.ontology = await api<Ontology>(this.ontologyPath, { method: "PUT", json: { roots } });
      moved = true;
      return `Label ${path} moved ${delta < 0 ? "up" : "down"}.`;
    });
    if (!moved) return;
    this.render();
    // Keep the keyboard where it was; at the end of the list the other direction is left.
    const form = document.querySelector<HTMLFormElement>("form.label-edit");
    const buttons = [...(form?.querySelectorAll<HTMLButtonElement>("button") ?? [])].filter((b) => b.textContent?.startsWith("Move"));
    const again = buttons.find((b) => b.textContent === (delta < 0 ? "Move up" : "Move down") && !b.disabled);
    (again ?? buttons.find((b) => !b.disabled))?.focus();
  }

  private async deleteLabel(path: string, trigger: HTMLButtonElement): Promise<void> {
    const below = this.tags().filter((tag) => tag.startsWith(`${path}.`)).length;
    const question = below
      ? `Delete label ${path} and the ${below} label${below === 1 ? "" : "s"} under it?`
      : `Delete label ${path}?`;
    if (!window.confirm(question)) return;
    let deleted = false;
    await this.run(trigger, null, async () => {
      const before = this.tags();
      const roots = removeLabel(this.ontology.roots, path);
      this.ontology = await api<Ontology>(this.ontologyPath, { method: "PUT", json: { roots } });
      deleted = true;
      if (this.editingLabel && (this.editingLabel === path || this.editingLabel.startsWith(`${path}.`))) this.editingLabel = null;
      await this.syncLabelTools(before);
      return below ? `Label ${path} and ${below} under it deleted.` : `Label ${path} deleted.`;
    });
    if (deleted) {
      this.render();
      byIdOptional("new-label-tag")?.focus();
    }
  }

  // --- attributes --------------------------------------------------------------------------------
  private renderAttributes(): void {
    const list = byId<HTMLUListElement>("attribute-list");
    list.replaceChildren(...this.ontology.attributes.map((attribute) => this.attributeItem(attribute)));
    byId("attributes-empty").hidden = this.ontology.attributes.length > 0;
  }

  private attributeItem(attribute: Attribute): HTMLLIElement {
    const li = element("li", "attribute-row");
    const card = element("div", "attribute-card");
    card.setAttribute("role", "group");
    card.setAttribute("aria-label", `Attribute ${attribute.title}`);
    const head = element("div", "attribute-head");
    head.append(element("strong", "", attribute.title));
    if (attribute.key !== attribute.title) head.append(element("code", "attribute-key", attribute.key));
    head.append(element("span", `badge badge-type`, ATTRIBUTE_TYPE_NAMES[attribute.type] ?? attribute.type));
    if (!attribute.optional) head.append(element("span", "badge badge-mandatory", "mandatory"));
    if (this.canEditOntology) {
      const actions = element("span", "row-actions");
      const edit = button("Edit", `Edit attribute ${attribute.title}`, "secondary outline compact");
      edit.dataset.editAttribute = attribute.key;
      edit.addEventListener("click", () => this.openAttributeForm(attribute));
      const remove = button("Delete", `Delete attribute ${attribute.title}`, "danger compact");
      remove.addEventListener("click", () => void this.deleteAttribute(attribute, remove));
      actions.append(edit, remove);
      head.append(actions);
    }
    const scope = element("div", "attribute-scope");
    if (attribute.scope.includes(ALL_LABELS)) scope.append(element("span", "muted", "All labels"));
    else if (attribute.scope.length === 0) scope.append(element("span", "scope-empty", "Applies to no label"));
    else {
      const colors = new Map(flattenLabels(this.ontology.roots).map((label) => [label.path, label.value.color]));
      scope.append(element("span", "muted", "Applies to "));
      for (const tag of attribute.scope) {
        const chip = element("span", "chip");
        chip.append(swatch(colors.get(tag) ?? "#cccccc"), document.createTextNode(tag));
        scope.append(chip);
      }
    }
    card.append(head, element("div", "attribute-detail", describeAttribute(attribute)), scope);
    li.append(card);
    return li;
  }

  private attributeForm(): HTMLFormElement {
    return byId<HTMLFormElement>("attribute-form");
  }

  private wireAttributeForm(): void {
    const form = this.attributeForm();
    const title = byId<HTMLInputElement>("attribute-title");
    const key = byId<HTMLInputElement>("attribute-key");
    byId("attribute-new").addEventListener("click", () => {
      if (!form.hidden && this.editingAttribute === null) this.closeAttributeForm();
      else this.openAttributeForm(null);
    });
    byId("attribute-cancel").addEventListener("click", () => this.closeAttributeForm());
    form.addEventListener("keydown", (event) => {
      if (event.key === "Escape") this.closeAttributeForm();
    });
    form.addEventListener("input", (event) => (event.target as HTMLElement).removeAttribute("aria-invalid"));
    title.addEventListener("input", () => {
      if (this.editingAttribute === null) key.placeholder = deriveKey(title.value) || "from the title";
    });
    form.addEventListener("change", (event) => {
      const target = event.target as HTMLInputElement;
      if (target.name === "type") this.showTypeFields();
      if (target.name === "scopeMode") this.showScopeFields();
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      void this.saveAttribute(form);
    });
  }

  private showTypeFields(): void {
    const type = byId<HTMLSelectElement>("attribute-type").value;
    this.attributeForm()
      .querySelectorAll<HTMLElement>("[data-for-type]")
      .forEach((section) => (section.hidden = section.dataset.forType !== type));
  }

  private showScopeFields(): void {
    const some = this.attributeForm().querySelector<HTMLInputElement>('input[name="scopeMode"][value="some"]')?.checked ?? false;
    byId<HTMLFieldSetElement>("attribute-scope-labels").disabled = !some;
  }

  private renderScopeChoices(): void {
    const box = byIdOptional("attribute-scope-labels");
    if (!box) return;
    const ticked = new Set([...box.querySelectorAll<HTMLInputElement>("input:checked")].map((input) => input.value));
    const labels = flattenLabels(this.ontology.roots);
    if (labels.length === 0) {
      box.replaceChildren(element("span", "muted", "Add labels first."));
      return;
    }
    box.replaceChildren(
      ...labels.map((label) => {
        const wrapper = element("label", "check scope-choice");
        const checkbox = document.createElement("input");
        checkbox.type = "checkbox";
        checkbox.name = "scope";
        checkbox.value = label.path;
        checkbox.checked = ticked.has(label.path);
        wrapper.append(checkbox, swatch(label.value.color), document.createTextNode(label.path));
        return wrapper;
      }),
    );
  }

  private openAttributeForm(attribute: Attribute | null): void {
    const form = this.attributeForm();
    form.reset();
    this.hideError();
    this.editingAttribute = attribute?.key ?? null;
    const key = byId<HTMLInputElement>("attribute-key");
    key.readOnly = attribute !== null;
    key.placeholder = "from the title";
    byId("attribute-form-title").textContent = attribute ? `Edit attribute ${attribute.title}` : "New attribute";
    byId("attribute-submit").textContent = attribute ? "Save attribute" : "Add attribute";
    this.renderScopeChoices();
    form.querySelectorAll<HTMLInputElement>('input[name="scope"]').forEach((input) => (input.checked = false));
    if (attribute) {
      byId<HTMLInputElement>("attribute-title").value = attribute.title;
      key.value = attribute.key;
      byId<HTMLSelectElement>("attribute-type").value = attribute.type;
      byId<HTMLTextAreaElement>("attribute-values").value = (attribute.values ?? []).join("\n");
      byId<HTMLInputElement>("attribute-multi").checked = Boolean(attribute.multi);
      byId<HTMLInputElement>("attribute-min").value = attribute.range ? String(attribute.range.min) : "";
      byId<HTMLInputElement>("attribute-max").value = attribute.range ? String(attribute.range.max) : "";
      byId<HTMLInputElement>("attribute-step").value = attribute.range ? String(attribute.range.step) : "1";
      byId<HTMLInputElement>("attribute-mandatory").checked = !attribute.optional;
      const all = attribute.scope.includes(ALL_LABELS);
      form.querySelector<HTMLInputElement>(`input[name="scopeMode"][value="${all ? "all" : "some"}"]`)!.checked = true;
      form.querySelectorAll<HTMLInputElement>('input[name="scope"]').forEach((input) => (input.checked = attribute.scope.includes(input.value)));
    }
    this.showTypeFields();
    this.showScopeFields();
    form.hidden = false;
    byId("attribute-new").setAttribute("aria-expanded", String(attribute === null));
    form.scrollIntoView({ block: "nearest" });
    byId<HTMLInputElement>("attribute-title").focus();
  }

  private closeAttributeForm(focusKey: string | null = this.editingAttribute): void {
    const form = this.attributeForm();
    form.hidden = true;
    form.reset();
    this.editingAttribute = null;
    byId("attribute-new").setAttribute("aria-expanded", "false");
    const edit = focusKey
      ? [...document.querySelectorAll<HTMLButtonElement>("button[data-edit-attribute]")].find((b) => b.dataset.editAttribute === focusKey)
      : null;
    (edit ?? byId("attribute-new")).focus();
  }

  private async saveAttribute(form: HTMLFormElement): Promise<void> {
    const value = (name: string) => (form.elements.namedItem(name) as HTMLInputElement).value;
    const checked = (id: string) => byId<HTMLInputElement>(id).checked;
    const editing = this.editingAttribute;
    let savedKey = "";
    const done = await this.run(byId("attribute-submit"), form, async () => {
      const built = buildAttribute({
        key: editing ?? value("key"),
        title: value("title"),
        type: value("type") as AttributeType,
        multi: checked("attribute-multi"),
        mandatory: checked("attribute-mandatory"),
        values: byId<HTMLTextAreaElement>("attribute-values").value,
        min: value("min"),
        max: value("max"),
        step: value("step"),
        allLabels: form.querySelector<HTMLInputElement>('input[name="scopeMode"][value="all"]')?.checked ?? true,
        scope: [...form.querySelectorAll<HTMLInputElement>('input[name="scope"]:checked')].map((input) => input.value),
      });
      if (!built.ok) throw new InputError(built.error, built.error.includes("title") ? "title" : undefined);
      const attribute = built.attribute;
      if (editing === null && this.ontology.attributes.some((existing) => existing.key === attribute.key)) {
        throw new InputError(`An attribute with key '${attribute.key}' already exists; edit it instead.`, "key");
      }
      this.ontology = await api<Ontology>(`${this.ontologyPath}/attributes`, {
        method: "PATCH",
        json: { items: [attribute], upsert: true },
      });
      savedKey = attribute.key;
      return editing === null ? `Attribute ${attribute.title} added.` : `Attribute ${attribute.title} saved.`;
    });
    if (!done) return;
    this.renderAttributes();
    this.closeAttributeForm(savedKey);
  }

  private async deleteAttribute(attribute: Attribute, trigger: HTMLButtonElement): Promise<void> {
    if (!window.confirm(`Delete attribute ${attribute.title}?`)) return;
    const done = await this.run(trigger, null, async () => {
      this.ontology = await api<Ontology>(`${this.ontologyPath}/attributes`, { method: "DELETE", json: { keys: [attribute.key] } });
      return `Attribute ${attribute.title} deleted.`;
    });
    if (!done) return;
    if (this.editingAttribute === attribute.key) this.closeAttributeForm(null);
    this.renderAttributes();
    byId("attribute-new").focus();
  }

  // --- tools per label --------------------------------------------------------------------------
  private resetToolChoices(): void {
    this.toolChoices = new Map(this.tags().map((tag) => [tag, toolsFor(this.recipe.labelTools, tag)]));
  }

  private moveToolChoices(from: string, to: string): void {
    this.toolChoices = new Map([...this.toolChoices].map(([tag, tools]) => [renameTag(tag, from, to), tools]));
  }

  /** After labels were deleted or renamed: drop (or move) their stored tool lists, so that a
   * label made later under the same tag does not inherit them. */
  private async syncLabelTools(before: string[], rename?: { from: string; to: string }): Promise<void> {
    const wanted = migrateLabelTools(this.recipe.labelTools, before, this.tags(), rename);
    if (sameLabelTools(wanted, this.recipe.labelTools)) return;
    this.recipe = await api<Recipe>(`/recipes/${this.recipe.id}`, { method: "PATCH", json: { labelTools: wanted } });
  }

  /** What to save: this ontology's labels as ticked, and the entries of any other ontology's labels as they are. */
  private pendingLabelTools(): LabelTools {
    const tags = this.tags();
    return { ...pickLabelTools(this.recipe.labelTools, tags, false), ...normaliseLabelTools(this.toolChoices, tags) };
  }

  private renderTools(): void {
    const table = byId<HTMLTableElement>("tools-table");
    const labels = flattenLabels(this.ontology.roots);
    for (const label of labels) {
      if (!this.toolChoices.has(label.path)) this.toolChoices.set(label.path, toolsFor(this.recipe.labelTools, label.path));
    }
    const headRow = document.createElement("tr");
    headRow.append(element("th", "", "Label"));
    for (const tool of TOOLS) {
      const th = element("th", "tool-col", TOOL_SHORT_NAMES[tool]);
      th.scope = "col";
      th.title = TOOL_NAMES[tool];
      headRow.append(th);
    }
    table.tHead!.replaceChildren(headRow);
    const rows = labels.map((label) => {
      const tr = document.createElement("tr");
      const th = element("th", "tool-label");
      th.scope = "row";
      th.append(swatch(label.value.color), document.createTextNode(label.path));
      tr.append(th);
      const chosen = this.toolChoices.get(label.path)!;
      for (const tool of TOOLS) {
        const td = element("td", "tool-cell");
        const name = `${TOOL_NAMES[tool]} for ${label.path}`;
        if (this.canEditRecipe) {
          const checkbox = document.createElement("input");
          checkbox.type = "checkbox";
          checkbox.checked = chosen.has(tool);
          checkbox.setAttribute("aria-label", name);
          checkbox.addEventListener("change", () => {
            if (checkbox.checked) chosen.add(tool);
            else chosen.delete(tool);
            this.showToolsDirty();
          });
          td.append(checkbox);
        } else {
          const allowed = chosen.has(tool);
          td.append(element("span", allowed ? "tool-yes" : "tool-no", allowed ? "✓" : "–"));
          td.firstElementChild!.setAttribute("aria-hidden", "true");
          td.append(element("span", "visually-hidden", `${name}: ${allowed ? "allowed" : "not allowed"}`));
        }
        tr.append(td);
      }
      return tr;
    });
    if (rows.length === 0) {
      const tr = document.createElement("tr");
      const td = element("td", "muted", "Add labels to choose their tools.");
      td.colSpan = TOOLS.length + 1;
      tr.append(td);
      rows.push(tr);
    }
    table.tBodies[0].replaceChildren(...rows);
    this.showToolsDirty();
  }

  private showToolsDirty(): void {
    const flag = byIdOptional("tools-dirty");
    if (!flag) return;
    const tags = this.tags();
    flag.hidden = sameLabelTools(normaliseLabelTools(this.toolChoices, tags), pickLabelTools(this.recipe.labelTools, tags));
  }

  // --- the recipe's title and instructions --------------------------------------------------------
  private fillRecipe(): void {
    const title = byIdOptional<HTMLInputElement>("recipe-title");
    if (title) title.value = this.recipe.title;
    const instructions = byIdOptional<HTMLTextAreaElement>("recipe-instructions");
    if (instructions) instructions.value = this.recipe.instructions;
    const text = byIdOptional("recipe-instructions-text");
    if (text) {
      text.textContent = this.recipe.instructions || "No instructions yet.";
      text.classList.toggle("muted", !this.recipe.instructions);
    }
    byId("recipe-heading").textContent = this.recipe.title;
    document.title = `${this.recipe.title} · Annotator`;
  }

  private wireRecipeForms(): void {
    const form = byId<HTMLFormElement>("recipe-form");
    form.addEventListener("input", (event) => (event.target as HTMLElement).removeAttribute("aria-invalid"));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      void this.run(form.querySelector("button[type=submit]"), form, async () => {
        const title = byId<HTMLInputElement>("recipe-title").value.trim();
        if (!title) throw new InputError("The recipe needs a title.", "title");
        this.recipe = await api<Recipe>(`/recipes/${this.recipe.id}`, {
          method: "PATCH",
          json: { title, instructions: byId<HTMLTextAreaElement>("recipe-instructions").value },
        });
        this.fillRecipe();
        return "Recipe saved.";
      });
    });
    const save = byId<HTMLButtonElement>("tools-save");
    save.addEventListener("click", () => {
      void this.run(save, null, async () => {
        this.recipe = await api<Recipe>(`/recipes/${this.recipe.id}`, {
          method: "PATCH",
          json: { labelTools: this.pendingLabelTools() },
        });
        this.resetToolChoices();
        this.renderTools();
        return "Tools saved.";
      });
    });
  }
}

// --- small DOM helpers --------------------------------------------------------------------------------
function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`#${id} is missing from the page`);
  return found as T;
}

function byIdOptional<T extends HTMLElement = HTMLElement>(id: string): T | null {
  return document.getElementById(id) as T | null;
}

function element<K extends keyof HTMLElementTagNameMap>(tag: K, className = "", text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function button(text: string, label: string | null, className: string): HTMLButtonElement {
  const node = element("button", className, text);
  node.type = "button";
  if (label) node.setAttribute("aria-label", label);
  return node;
}

function swatch(color: string): HTMLSpanElement {
  const node = element("span", "swatch");
  node.setAttribute("aria-hidden", "true");
  node.style.backgroundColor = color; // CSSOM, which a style-src CSP allows (unlike style attributes)
  return node;
}

function input(
  name: string,
  id: string,
  value: string,
  options: { type?: string; maxLength?: number; spellcheck?: boolean } = {},
): HTMLInputElement {
  const node = document.createElement("input");
  node.type = options.type ?? "text";
  node.name = name;
  node.id = id;
  node.value = value;
  node.autocomplete = "off";
  if (options.maxLength) node.maxLength = options.maxLength;
  if (options.spellcheck === false) node.spellcheck = false;
  return node;
}

function field(text: string, control: HTMLInputElement, className = ""): HTMLDivElement {
  const wrapper = element("div", `field ${className}`.trim());
  const label = element("label", "", text);
  label.htmlFor = control.id;
  wrapper.append(label, control);
  return wrapper;
}

const editorRoot = document.getElementById("recipe-editor");
if (editorRoot) void new RecipeEditor(editorRoot).start();
