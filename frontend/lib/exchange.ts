/** Exports and imports from the dataset page: the request bodies, the import report and the
 * list of downloads, kept apart from the DOM so that they can be tested. */
import { type Command, isFinished } from "./commands";
import { annotationJoin, type AnnotationJoin, type Filter } from "./dql";

export const FORMATS = [
  { value: "dataloop", title: "Dataloop JSON" },
  { value: "coco", title: "COCO" },
  { value: "yolo", title: "YOLO" },
  { value: "voc", title: "Pascal VOC" },
  { value: "masks", title: "Semantic PNG masks" },
] as const;

export type FormatName = (typeof FORMATS)[number]["value"];

export function formatTitle(name: unknown): string {
  return FORMATS.find((format) => format.value === name)?.title ?? String(name ?? "?");
}

/** What the grid shows, as one DQL filter: the chosen folder and the applied filter (null: everything). */
export function shownFilter(folder: string, filter: Filter | null): Filter | null {
  const parts: Filter[] = [];
  if (folder !== "/") parts.push({ filename: `${folder.replace(/\/$/, "")}/**` });
  if (filter) parts.push(filter);
  if (parts.length === 0) return null;
  return parts.length === 1 ? parts[0] : { $and: parts };
}

export interface ExportChoices {
  format: string;
  scope: "all" | "filter";
  /** The selection the page shows (see shownFilter), used when scope is "filter". */
  filter: Filter | null;
  /** The page's annotation filter: only items with an annotation matching it. */
  annotations: Filter | null;
  taskId: string;
  status: string;
  includeImages: boolean;
}

export interface ExportBody {
  format: string;
  itemsQuery?: { filter: Filter; join?: AnnotationJoin };
  taskStatus?: { taskId: string; status: string };
  includeImages?: true;
}

/** The body of POST /datasets/{id}/export, or what is missing from the choices. */
export function buildExportBody(choices: ExportChoices): { ok: true; body: ExportBody } | { ok: false; error: string } {
  if (!FORMATS.some((format) => format.value === choices.format)) return { ok: false, error: "Choose a format." };
  const body: ExportBody = { format: choices.format };
  if (choices.scope === "filter") {
    if (!choices.filter && !choices.annotations) return { ok: false, error: "No filter is applied: apply one first, or export all items." };
    const join = annotationJoin(choices.annotations);
    body.itemsQuery = { filter: choices.filter ?? {}, ...(join ? { join } : {}) };
  }
  const status = choices.status.trim();
  if (choices.taskId) {
    if (!status) return { ok: false, error: "Name the task status the items must have." };
    body.taskStatus = { taskId: choices.taskId, status };
  }
  if (choices.includeImages) body.includeImages = true;
  return { ok: true, body };
}

// --- progress ------------------------------------------------------------------------------------
export function progressText(command: Pick<Command, "status" | "progress" | "error">, verb: string): string {
  if (command.status === "success") return "Done.";
  if (command.status === "failed") return `Failed: ${command.error ?? "unknown error"}`;
  if (["aborted", "timeout", "canceled"].includes(command.status)) return `Stopped (${command.status}).`;
  if (command.status === "created") return "Queued…";
  return `${verb} · ${command.progress}%`;
}

/** The bar's value: 100 once the command succeeded, whatever its last progress event said. */
export function progressValue(command: Pick<Command, "status" | "progress">): number {
  return command.status === "success" ? 100 : Math.max(0, Math.min(100, command.progress));
}

// --- the import report -----------------------------------------------------------------------------
export interface ReportEntry {
  entry: string;
  reason: string;
}

export interface ImportReport {
  itemsCreated: number;
  itemsMatched: number;
  annotationsImported: number;
  labelsAdded: string[];
  skipped: ReportEntry[];
  skippedCount: number;
  rejected: ReportEntry[];
  rejectedCount: number;
}

export const REJECTED_SHOWN = 50;

const count = (value: unknown): number => (typeof value === "number" && Number.isFinite(value) ? value : 0);

function entries(value: unknown): ReportEntry[] {
  if (!Array.isArray(value)) return [];
  return value
    .filter((e): e is Record<string, unknown> => typeof e === "object" && e !== null)
    .map((e) => ({ entry: String(e.entry ?? ""), reason: String(e.reason ?? "") }));
}

/** The report an import command carries in `spec.report` (null when it has none, e.g. a crash). */
export function readReport(spec: Record<string, unknown>): ImportReport | null {
  const raw = spec.report;
  if (typeof raw !== "object" || raw === null) return null;
  const report = raw as Record<string, unknown>;
  const rejected = entries(report.rejected);
  const skipped = entries(report.skipped);
  return {
    itemsCreated: count(report.itemsCreated),
    itemsMatched: count(report.itemsMatched),
    annotationsImported: count(report.annotationsImported),
    labelsAdded: Array.isArray(report.labelsAdded) ? report.labelsAdded.map(String) : [],
    skipped,
    skippedCount: Math.max(count(report.skippedCount), skipped.length),
    rejected,
    rejectedCount: Math.max(count(report.rejectedCount), rejected.length),
  };
}

/** The report's figures as (term, value) pairs, in the order the dialog lists them. */
export function reportCounts(report: ImportReport): [string, number][] {
  return [
    ["Items created", report.itemsCreated],
    ["Items matched", report.itemsMatched],
    ["Annotations imported", report.annotationsImported],
    ["Labels added", report.labelsAdded.length],
    ["Skipped", report.skippedCount],
  ];
}

/** The first REJECTED_SHOWN rejected entries, and how many the list leaves out. */
export function rejectedShown(report: ImportReport, limit: number = REJECTED_SHOWN): { shown: ReportEntry[]; more: number } {
  const shown = report.rejected.slice(0, limit);
  return { shown, more: report.rejectedCount - shown.length };
}

export function plural(n: number, one: string, many: string = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

// --- downloads ---------------------------------------------------------------------------------
export function isExportOf(command: Pick<Command, "type" | "spec">, datasetId: string): boolean {
  return command.type === "dataset.export" && command.spec.datasetId === datasetId;
}

/** The list with `command` put in (replacing its older state), newest first. A late event
 * about a running export never replaces a finished one, nor one that got further. */
export function upsertExport<T extends Pick<Command, "id" | "status" | "progress">>(list: T[], command: T): T[] {
  const old = list.find((c) => c.id === command.id);
  if (old && !isFinished(command) && (isFinished(old) || command.progress < old.progress)) return list;
  const rest = list.filter((c) => c.id !== command.id);
  return [...rest, command].sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
}

/** "4 items · 12 annotations" for a finished export; "" before it is done. */
export function exportContents(spec: Record<string, unknown>): string {
  if (typeof spec.itemsCount !== "number") return "";
  const parts = [plural(spec.itemsCount, "item"), plural(count(spec.annotationsCount), "annotation")];
  if (spec.includeImages) parts.push("images");
  return parts.join(" · ");
}
