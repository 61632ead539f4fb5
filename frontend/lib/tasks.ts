/** Tasks and assignments as the API sends them, and the small rules the task pages share. */

export interface TaskAction {
  action: string;
  displayName: string;
  color: string;
}

export interface TaskJson {
  id: string;
  name: string;
  projectId: string;
  datasetId: string;
  recipeId: string | null;
  dueDate: number | null;
  priority: number;
  allocation: "distribution" | "pulling";
  spec: { type: "annotation" | "qa"; parentTaskId?: string };
  availableActions: TaskAction[];
  metadata: { system: { batchSize?: number; maxBatchWorkload?: number; allowedAssignees?: string[] } };
  itemStatus: Record<string, number>;
  openItems: number;
  progress: number;
  issues: number;
  totalItems: number;
  assignmentIds: string[];
  createdAt: string;
  creator: string | null;
}

export interface AssignmentJson {
  id: string;
  annotator: string;
  status: "active" | "removed";
  load: number | null;
  metadata: { system: { taskId: string; datasetId: string } };
  totalItems: number;
  itemStatus: Record<string, number>;
  openItems: number;
  issues: number;
}

export interface NextItem {
  taskId: string;
  assignmentId: string;
  status: string | null;
  reopened: boolean;
  item: { id: string; name: string; filename: string; datasetId: string; metadata: { system: { width?: number; height?: number } } };
}

/** Items that are finished in a task or assignment: every status but open and a parked issue. */
export function doneCount(counts: { itemStatus: Record<string, number> }): number {
  return Object.entries(counts.itemStatus)
    .filter(([status]) => status !== "issue")
    .reduce((sum, [, n]) => sum + n, 0);
}

export const PRIORITIES: Record<number, string> = { 1: "Low", 2: "Medium", 3: "High" };

/** "Due in 3 days", "Due today", "Overdue by 2 days", or "No due date"; whole days, by the calendar. */
export function describeDue(dueMs: number | null, nowMs: number = Date.now()): { text: string; overdue: boolean } {
  if (dueMs === null || dueMs === undefined) return { text: "No due date", overdue: false };
  const day = (ms: number) => {
    const d = new Date(ms);
    return Date.UTC(d.getFullYear(), d.getMonth(), d.getDate()) / 86_400_000;
  };
  const days = day(dueMs) - day(nowMs);
  if (days === 0) return { text: "Due today", overdue: dueMs < nowMs };
  if (days === 1) return { text: "Due tomorrow", overdue: false };
  if (days > 1) return { text: `Due in ${days} days`, overdue: false };
  return { text: `Overdue by ${-days} day${days === -1 ? "" : "s"}`, overdue: true };
}

/** Equal loads in whole percent that sum to exactly 100 (the first ones take the remainder). */
export function equalLoads(count: number): number[] {
  if (count <= 0) return [];
  const base = Math.floor(100 / count);
  const extra = 100 - base * count;
  return Array.from({ length: count }, (_, i) => base + (i < extra ? 1 : 0));
}

/** Statuses in the order a dashboard lists them: the task's own actions first, then any others. */
export function statusOrder(task: Pick<TaskJson, "availableActions" | "itemStatus">): string[] {
  const own = task.availableActions.map((a) => a.action);
  const others = Object.keys(task.itemStatus).filter((s) => !own.includes(s)).sort();
  return [...own, ...others];
}

const STATUS_NAMES: Record<string, string> = { completed: "Completed", discard: "Discarded", approved: "Approved", issue: "Sent back" };

/** What a count of items in `status` is called ("Completed", "Discarded"); custom statuses by their button's name. */
export function statusName(task: Pick<TaskJson, "availableActions">, status: string): string {
  return STATUS_NAMES[status] ?? task.availableActions.find((a) => a.action === status)?.displayName ?? status;
}

export function studioUrl(itemId: string, taskId: string): string {
  return `/studio/${encodeURIComponent(itemId)}?task=${encodeURIComponent(taskId)}`;
}
