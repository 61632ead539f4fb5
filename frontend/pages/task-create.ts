/**
 * The task creation form: items (whole dataset, a folder or DQL), recipe, due date, priority,
 * and allocation (loads that sum to 100, or pulling with batch settings). It posts to
 * /annotationtasks and follows the creation Command with a progress bar, then opens the dashboard.
 */
import { api, ApiError } from "../lib/api";
import { followCommand, type Command } from "../lib/commands";
import { parseDql, type Filter } from "../lib/dql";
import { equalLoads } from "../lib/tasks";

interface FormData {
  projectId: string;
  datasets: { id: string; name: string; itemsCount: number; recipeId: string | null }[];
  workers: { email: string; name: string; role: string }[];
  recipes: { id: string; title: string }[];
  annotationTasks: { id: string; name: string; datasetId: string }[];
  datasetId: string;
}

interface Folder {
  path: string;
  name: string;
  children: Folder[];
}

const data = JSON.parse(document.getElementById("task-form-data")!.textContent!) as FormData;
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const form = $<HTMLFormElement>("task-form");
const nameInput = $<HTMLInputElement>("task-name");
const parentSelect = $<HTMLSelectElement>("task-parent");
const datasetSelect = $<HTMLSelectElement>("task-dataset");
const recipeSelect = $<HTMLSelectElement>("task-recipe");
const folderSelect = $<HTMLSelectElement>("task-folder");
const dqlInput = $<HTMLTextAreaElement>("task-dql");
const itemCount = $<HTMLParagraphElement>("item-count");
const rows = $<HTMLTableSectionElement>("assignee-rows");
const loadTotal = $<HTMLOutputElement>("load-total");
const errorBox = $<HTMLParagraphElement>("form-error");
const createButton = $<HTMLButtonElement>("create-button");

const option = (value: string, text: string, selected = false) => {
  const node = document.createElement("option");
  node.value = value;
  node.textContent = text;
  node.selected = selected;
  return node;
};
const checked = (name: string) => form.querySelector<HTMLInputElement>(`input[name="${name}"]:checked`)!.value;

// --- static choices ----------------------------------------------------------------------------------
datasetSelect.append(...data.datasets.map((d) => option(d.id, `${d.name} (${d.itemsCount} items)`, d.id === data.datasetId)));
recipeSelect.append(...data.recipes.map((r) => option(r.id, r.title)));
parentSelect.append(...data.annotationTasks.map((t) => option(t.id, t.name)));
if (!data.annotationTasks.length) form.querySelector<HTMLInputElement>('input[name="kind"][value="qa"]')!.disabled = true;

for (const worker of data.workers) {
  const id = `assign-${worker.email}`;
  const box = Object.assign(document.createElement("input"), { type: "checkbox", id, value: worker.email, checked: true, name: "assignee" });
  const load = Object.assign(document.createElement("input"), { type: "number", min: "0", max: "100", step: "1", name: "load" });
  load.setAttribute("aria-label", `Load of ${worker.email} in percent`);
  const label = document.createElement("label");
  label.htmlFor = id;
  const who = document.createElement("span");
  who.className = "assignee-who";
  who.append(
    Object.assign(document.createElement("span"), { textContent: worker.name }),
    Object.assign(document.createElement("small"), { className: "muted", textContent: worker.name !== worker.email ? `${worker.email} · ${worker.role}` : worker.role }),
  );
  label.append(box, who);
  const row = document.createElement("tr");
  row.dataset.email = worker.email;
  const cell = document.createElement("td");
  cell.append(label);
  const loadCell = document.createElement("td");
  loadCell.className = "load-col";
  loadCell.append(load);
  row.append(cell, loadCell);
  rows.append(row);
  box.addEventListener("change", () => {
    load.disabled = !box.checked;
    spreadEqually();
  });
  load.addEventListener("input", showTotal);
}
$("no-workers").hidden = data.workers.length > 0;
$("equal-loads").addEventListener("click", spreadEqually);

function chosen(): { email: string; load: HTMLInputElement }[] {
  return [...rows.querySelectorAll<HTMLTableRowElement>("tr")]
    .filter((row) => row.querySelector<HTMLInputElement>("input[type=checkbox]")!.checked)
    .map((row) => ({ email: row.dataset.email!, load: row.querySelector<HTMLInputElement>("input[name=load]")! }));
}

function spreadEqually(): void {
  const people = chosen();
  const loads = equalLoads(people.length);
  people.forEach((p, i) => (p.load.value = String(loads[i])));
  for (const row of rows.querySelectorAll<HTMLTableRowElement>("tr")) {
    if (!row.querySelector<HTMLInputElement>("input[type=checkbox]")!.checked) row.querySelector<HTMLInputElement>("input[name=load]")!.value = "";
  }
  showTotal();
}

function showTotal(): void {
  const total = chosen().reduce((sum, p) => sum + (Number(p.load.value) || 0), 0);
  loadTotal.value = `Total ${total}%`;
  loadTotal.classList.toggle("bad-total", total !== 100);
}

// --- dependent fields --------------------------------------------------------------------------------
function syncVisibility(): void {
  const qa = checked("kind") === "qa";
  $("parent-field").hidden = !qa;
  $("items-field").hidden = qa;
  datasetSelect.disabled = qa;
  if (qa) {
    const parent = data.annotationTasks.find((t) => t.id === parentSelect.value);
    if (parent && datasetSelect.value !== parent.datasetId) {
      datasetSelect.value = parent.datasetId;
      void datasetChanged();
    }
  }
  const selection = checked("selection");
  $("folder-field").hidden = selection !== "folder";
  $("dql-field").hidden = selection !== "dql";
  const pulling = checked("allocation") === "pulling";
  $("pull-settings").hidden = !pulling;
  form.classList.toggle("pulling", pulling);
  void countItems();
}

async function datasetChanged(): Promise<void> {
  const dataset = data.datasets.find((d) => d.id === datasetSelect.value);
  if (dataset?.recipeId) recipeSelect.value = dataset.recipeId;
  folderSelect.replaceChildren(option("", "Loading folders…"));
  if (!dataset) return;
  try {
    const detail = await api<{ directoryTree: Folder }>(`/datasets/${dataset.id}`);
    const folders: Folder[] = [];
    const walk = (node: Folder) => node.children.forEach((child) => (folders.push(child), walk(child)));
    walk(detail.directoryTree);
    folderSelect.replaceChildren(...(folders.length ? folders.map((f) => option(f.path, f.path)) : [option("", "This dataset has no folders")]));
  } catch {
    folderSelect.replaceChildren(option("", "Could not load the folders"));
  }
  void countItems();
}

/** The items filter the form describes, or an error to show. */
function itemFilter(): { ok: true; filter: Filter[] } | { ok: false; error: string } {
  const and: Filter[] = [{ hidden: false }, { type: "file" }];
  const selection = checked("selection");
  if (selection === "folder") {
    if (!folderSelect.value) return { ok: false, error: "Choose a folder, or another way to select items." };
    and.push({ filename: `${folderSelect.value}/**` });
  } else if (selection === "dql") {
    const parsed = parseDql(dqlInput.value);
    if (!parsed.ok) return parsed;
    if (parsed.filter) and.push(parsed.filter);
  }
  return { ok: true, filter: and };
}

let countGeneration = 0;
async function countItems(): Promise<void> {
  const generation = ++countGeneration;
  if (checked("kind") === "qa") return;
  const filter = itemFilter();
  if (!filter.ok) {
    itemCount.textContent = filter.error;
    return;
  }
  itemCount.textContent = "Counting…";
  try {
    const page = await api<{ totalItemsCount: number }>(`/datasets/${datasetSelect.value}/query`, {
      json: { resource: "items", filter: { $and: filter.filter }, page: 0, pageSize: 1 },
    });
    if (generation === countGeneration) itemCount.textContent = `${page.totalItemsCount} item${page.totalItemsCount === 1 ? "" : "s"} selected.`;
  } catch (error) {
    if (generation === countGeneration) itemCount.textContent = error instanceof ApiError ? `The filter is not valid: ${error.message}` : "Could not count the items.";
  }
}

let dqlTimer = 0;
dqlInput.addEventListener("input", () => {
  window.clearTimeout(dqlTimer);
  dqlTimer = window.setTimeout(() => void countItems(), 400);
});
folderSelect.addEventListener("change", () => void countItems());
datasetSelect.addEventListener("change", () => void datasetChanged());
parentSelect.addEventListener("change", syncVisibility);
form.querySelectorAll<HTMLInputElement>('input[type="radio"]').forEach((radio) => radio.addEventListener("change", syncVisibility));

// --- submit ------------------------------------------------------------------------------------------
function fail(message: string, focus?: HTMLElement): void {
  errorBox.textContent = message;
  errorBox.hidden = false;
  focus?.focus();
}

function body(): Record<string, unknown> | null {
  const name = nameInput.value.trim();
  if (!name) return fail("Give the task a name.", nameInput), null;
  const qa = checked("kind") === "qa";
  const people = chosen();
  if (!people.length) return fail("Choose at least one assignee."), null;
  const payload: Record<string, unknown> = {
    name,
    projectId: data.projectId,
    datasetId: datasetSelect.value,
    recipeId: recipeSelect.value || undefined,
    priority: Number($<HTMLSelectElement>("task-priority").value),
    spec: qa ? { type: "qa", parentTaskId: parentSelect.value } : { type: "annotation" },
  };
  const due = $<HTMLInputElement>("task-due").value;
  if (due) payload.dueDate = new Date(`${due}T23:59:59`).getTime();
  if (!qa) {
    const filter = itemFilter();
    if (!filter.ok) return fail(filter.error, dqlInput), null;
    payload.query = { filter: { $and: filter.filter } };
  }
  if (checked("allocation") === "pulling") {
    const batchSize = Number($<HTMLInputElement>("task-batch").value);
    const maxBatchWorkload = Number($<HTMLInputElement>("task-max").value);
    if (!(batchSize >= 1) || !(maxBatchWorkload >= batchSize)) return fail("The most items held must be at least the batch size."), null;
    payload.metadata = { system: { batchSize, maxBatchWorkload, allowedAssignees: people.map((p) => p.email) } };
  } else {
    const loads = people.map((p) => Number(p.load.value) || 0);
    const total = loads.reduce((a, b) => a + b, 0);
    if (Math.abs(total - 100) > 0.001) return fail(`The loads add up to ${total}%; they must add up to 100%.`), null;
    payload.workload = people.map((p, i) => ({ assigneeId: p.email, load: loads[i] }));
  }
  return payload;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  errorBox.hidden = true;
  const payload = body();
  if (!payload) return;
  createButton.setAttribute("aria-busy", "true");
  createButton.disabled = true;
  const progress = $<HTMLProgressElement>("create-bar");
  const label = $("create-label");
  try {
    const command = await api<Command>("/annotationtasks", { json: payload });
    $("create-progress").hidden = false;
    const final = await followCommand(command, (c) => {
      progress.value = c.progress;
      label.textContent = `Creating the task… ${Math.round(c.progress)}%`;
    });
    if (final.status !== "success") throw new Error(final.error ?? `the task could not be filled (${final.status})`);
    label.textContent = "Created. Opening the dashboard…";
    progress.value = 100;
    window.location.assign(`/tasks/${final.spec.createdTaskId as string}/`);
  } catch (error) {
    fail(`The task was not created: ${error instanceof Error ? error.message : String(error)}`);
    createButton.removeAttribute("aria-busy");
    createButton.disabled = false;
  }
});

spreadEqually();
syncVisibility();
void datasetChanged();
