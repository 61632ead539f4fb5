/**
 * The task dashboard: progress overall, per status and per assignee, with throughput and time
 * per item. It refetches when the project's group says this task progressed or changed, and
 * after the websocket reconnects, so it never needs a reload.
 */
import { api, ApiError } from "../lib/api";
import { pageSocket } from "../lib/live";
import { describeDue, doneCount, PRIORITIES, statusName, statusOrder, studioUrl, type AssignmentJson, type NextItem, type TaskJson } from "../lib/tasks";
import { coalesced } from "../lib/coalesce";

interface Stats {
  people: Record<string, { statuses: number; lastHour: number; secondsPerItem: number | null }>;
}

const root = document.getElementById("task-dashboard")!;
const taskId = root.dataset.taskId!;
const projectId = root.dataset.projectId!;
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  node.append(...children);
  return node;
}

export function formatSeconds(seconds: number | null): string {
  if (seconds === null) return "—";
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

function render(task: TaskJson, assignments: AssignmentJson[], stats: Stats): void {
  const done = doneCount(task);
  $("dash-percent").textContent = `${task.progress}%`;
  const counts = [`${done} of ${task.totalItems} items done`, `${task.openItems} open`];
  if (task.issues) counts.push(`${task.issues} sent back`);
  const held = assignments.reduce((sum, a) => sum + a.openItems, 0);
  if (task.allocation === "pulling") counts.push(`${Math.max(0, task.openItems - held)} waiting in the queue`);
  if (task.spec.type === "qa" && !task.totalItems) counts.splice(0, counts.length, "No items yet: they arrive here as they are completed in the reviewed task.");
  $("dash-counts").textContent = counts.join(" · ");
  const bar = $<HTMLProgressElement>("dash-bar");
  bar.value = task.progress;
  bar.setAttribute("aria-valuetext", `${task.progress}% done`);
  const due = describeDue(task.dueDate);
  const dueNode = $("dash-due");
  dueNode.textContent = task.dueDate ? `${due.text} (${new Date(task.dueDate).toLocaleDateString()})` : due.text;
  dueNode.classList.toggle("overdue", due.overdue && task.progress < 100);
  $("dash-priority").textContent = (PRIORITIES[task.priority] ?? String(task.priority)).toLowerCase();

  const statuses = $("dash-statuses");
  const entries: [string, number, string][] = statusOrder(task).map((s) => [statusName(task, s), task.itemStatus[s] ?? 0, s]);
  entries.push(["Open", task.openItems, "open"]);
  statuses.replaceChildren(
    ...entries.map(([name, n, key]) => {
      const color = task.availableActions.find((a) => a.action === key)?.color;
      const box = el("div", { class: `dash-status status-${key}`, "data-status": key }, el("dt", {}, name), el("dd", {}, String(n)));
      if (color) box.style.setProperty("--status-color", color);
      return box;
    }),
  );

  const rows = $("dash-rows");
  const active = assignments.filter((a) => a.status === "active" || a.totalItems > 0);
  if (!active.length) {
    rows.replaceChildren(el("tr", {}, el("td", { colspan: "7", class: "muted" }, "Nobody is assigned.")));
    return;
  }
  rows.replaceChildren(
    ...active.map((a) => {
      const finished = doneCount(a);
      const total = finished + a.openItems;
      const breakdown = statusOrder(task)
        .filter((s) => a.itemStatus[s])
        .map((s) => `${statusName(task, s)} ${a.itemStatus[s]}`)
        .join(", ");
      const person = stats.people[a.annotator.toLowerCase()];
      const who = el("td", {}, a.annotator);
      if (a.status === "removed") who.append(" ", el("small", { class: "muted" }, "(removed)"));
      if (a.load !== null && task.allocation === "distribution") who.append(" ", el("small", { class: "muted" }, `· ${a.load}%`));
      return el(
        "tr",
        { "data-assignee": a.annotator },
        who,
        el("td", {}, String(a.openItems)),
        el("td", {}, String(finished)),
        el("td", { class: "muted" }, breakdown || "—"),
        el("td", { class: "dash-bar-col" }, el("progress", { value: String(finished), max: String(Math.max(total, 1)), "aria-label": `${a.annotator}: ${finished} of ${total} done` })),
        el("td", {}, person ? String(person.lastHour) : "0"),
        el("td", {}, formatSeconds(person?.secondsPerItem ?? null)),
      );
    }),
  );
}

async function load(): Promise<void> {
  try {
    const [task, assignments, stats] = await Promise.all([
      api<TaskJson>(`/annotationtasks/${taskId}`),
      api<{ items: AssignmentJson[] }>(`/assignments?projects=${projectId}&taskId=${taskId}`),
      api<Stats>(`/annotationtasks/${taskId}/stats`).catch(() => ({ people: {} })),
    ]);
    render(task, assignments.items, stats);
    $("dash-error").hidden = true;
    $("dash-updated").textContent = `Live · updated ${new Date().toLocaleTimeString()}`;
  } catch (error) {
    const box = $("dash-error");
    box.hidden = false;
    box.textContent = error instanceof ApiError && error.status === 404 ? "This task was deleted." : `Could not load the task: ${error instanceof Error ? error.message : String(error)}`;
  }
}

/** Refetch; calls that arrive while one runs collapse into one more. */
const refresh = coalesced(load);

const socket = pageSocket();
socket.onEvent((message) => {
  const id = (message.data as { id?: string }).id;
  if (id !== taskId) return;
  if (message.event === "task.progress" || message.event === "task.updated" || message.event === "task.deleted") refresh();
});
socket.subscribe(`project.${projectId}`);
socket.onReconnect(refresh);
// Throughput ages even when nothing happens; a slow poll keeps "last hour" honest.
window.setInterval(refresh, 60_000);
refresh();

const start = document.getElementById("dash-start") as HTMLButtonElement | null;
start?.addEventListener("click", async () => {
  start.disabled = true;
  try {
    const { next } = await api<{ next: NextItem | null }>(`/annotationtasks/${taskId}/next`);
    if (next) window.location.assign(studioUrl(next.item.id, taskId));
    else {
      start.textContent = "Nothing to do right now";
      start.disabled = false;
    }
  } catch (error) {
    $("dash-error").hidden = false;
    $("dash-error").textContent = error instanceof Error ? error.message : String(error);
    start.disabled = false;
  }
});
