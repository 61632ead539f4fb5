/**
 * "My work": the caller's assignments (annotation and review) with a Start button that opens
 * the studio on the next item. It refetches when the server says an assignment changed
 * (items given, taken away, reopened by a review) and after the websocket reconnects.
 */
import { api, ApiError } from "../lib/api";
import { pageSocket } from "../lib/live";
import { describeDue, doneCount, studioUrl, type AssignmentJson, type NextItem, type TaskJson } from "../lib/tasks";
import { coalesced } from "../lib/coalesce";

type MyAssignment = AssignmentJson & { task: TaskJson };

const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const statusLine = byId<HTMLParagraphElement>("work-status");
const errorLine = byId<HTMLParagraphElement>("work-error");
const table = byId<HTMLTableElement>("work-table");
const rows = byId<HTMLTableSectionElement>("work-rows");
const datasetNames = new Map<string, Promise<string>>();

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  node.append(...children);
  return node;
}

function datasetName(id: string): Promise<string> {
  let name = datasetNames.get(id);
  if (!name) {
    name = api<{ name: string }>(`/datasets/${id}`).then((d) => d.name, () => "—");
    datasetNames.set(id, name);
  }
  return name;
}

function row(assignment: MyAssignment): HTMLTableRowElement {
  const { task } = assignment;
  const review = task.spec.type === "qa";
  const done = doneCount(assignment);
  const due = describeDue(task.dueDate);
  const kind = el("span", { class: `badge ${review ? "badge-review" : "badge-annotate"}` }, review ? "Review" : "Annotate");
  const name = el("td", {}, el("a", { href: `/tasks/${task.id}/` }, task.name), " ", kind);
  if (task.priority === 3) name.append(" ", el("span", { class: "badge badge-high" }, "High priority"));
  const dataset = el("td", {}, "…");
  void datasetName(task.datasetId).then((n) => (dataset.textContent = n));
  const dueCell = el("td", { class: due.overdue ? "overdue" : "" }, due.text);
  if (task.dueDate) dueCell.title = new Date(task.dueDate).toLocaleString();
  const total = assignment.openItems + done;
  const progress = el("progress", { value: String(done), max: String(Math.max(total, 1)), "aria-label": `${task.name}: ${done} of ${total} done` });
  const counts = el("small", { class: "muted" }, `${assignment.openItems} open · ${done} done`);
  if (assignment.issues) counts.append(` · ${assignment.issues} sent back`);
  if (task.allocation === "pulling") counts.append(" · more on request");
  const start = el("button", { type: "button", class: "compact", "aria-label": `Start ${task.name}` }, "Start");
  const canStart = assignment.openItems > 0 || task.allocation === "pulling";
  if (!canStart) {
    start.setAttribute("disabled", "");
    start.textContent = "All done";
    start.setAttribute("aria-label", `${task.name}: all done`);
  }
  const note = el("small", { class: "row-note", role: "status" });
  start.addEventListener("click", () => void begin(task, start, note));
  return el("tr", { "data-task-id": task.id }, name, dataset, dueCell, el("td", { class: "work-progress" }, progress, counts), el("td", { class: "work-actions" }, start, note));
}

async function begin(task: TaskJson, button: HTMLButtonElement, note: HTMLElement): Promise<void> {
  button.setAttribute("aria-busy", "true");
  button.disabled = true;
  note.textContent = "";
  try {
    const { next } = await api<{ next: NextItem | null }>(`/annotationtasks/${task.id}/next`);
    if (next) {
      window.location.assign(studioUrl(next.item.id, task.id));
      return;
    }
    note.textContent = "Nothing to do right now: the queue is empty.";
  } catch (error) {
    note.textContent = error instanceof ApiError ? error.message : "Could not reach the server.";
  }
  button.removeAttribute("aria-busy");
  button.disabled = false;
}

async function load(): Promise<void> {
  try {
    const assignments = await api<MyAssignment[]>("/users/me/assignments");
    errorLine.hidden = true;
    rows.replaceChildren(...assignments.map(row));
    table.hidden = !assignments.length;
    const open = assignments.reduce((sum, a) => sum + a.openItems, 0);
    statusLine.textContent = assignments.length
      ? `${assignments.length} assignment${assignments.length === 1 ? "" : "s"}, ${open} item${open === 1 ? "" : "s"} open.`
      : "Nothing is assigned to you yet. When a manager gives you work, it appears here.";
  } catch (error) {
    errorLine.hidden = false;
    errorLine.textContent = `Could not load your assignments: ${error instanceof Error ? error.message : String(error)}`;
  }
}

/** Refetch; calls that arrive while one runs collapse into one more. */
const refresh = coalesced(load);

const socket = pageSocket();
socket.onEvent((message) => {
  if (message.event === "assignment.changed") refresh();
});
socket.onReconnect(refresh);
refresh();
