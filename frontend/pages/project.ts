/** The project page's task list: each row's progress follows `task.progress` without a reload. */
import { api } from "../lib/api";
import { pageSocket } from "../lib/live";
import type { TaskJson } from "../lib/tasks";

const list = document.getElementById("task-list");

async function update(taskId: string): Promise<void> {
  const row = list?.querySelector<HTMLTableRowElement>(`tr[data-task-id="${CSS.escape(taskId)}"]`);
  if (!row) return;
  const task = await api<TaskJson>(`/annotationtasks/${taskId}`);
  row.querySelector("progress")!.value = task.progress;
  row.querySelector('[data-field="percent"]')!.textContent = `${task.progress}%`;
  row.querySelector('[data-field="items"]')!.textContent = String(task.totalItems);
}

if (list) {
  const socket = pageSocket();
  socket.onEvent((message) => {
    const id = (message.data as { id?: string }).id;
    if (message.event === "task.progress" && id) void update(id).catch(() => undefined);
  });
  socket.onReconnect(() => list.querySelectorAll<HTMLTableRowElement>("tr[data-task-id]").forEach((row) => void update(row.dataset.taskId!).catch(() => undefined)));
}
