/**
 * The dataset page's exports and imports: the Export and Import dialogs, each following its
 * Command to the end, and the Downloads list of the dataset's exports, kept live by the
 * project's command.updated events.
 */
import { ApiError, api, uploadForm } from "../lib/api";
import { coalesced } from "../lib/coalesce";
import { type Command, followCommand, isFinished } from "../lib/commands";
import type { Filter } from "../lib/dql";
import {
  FORMATS,
  buildExportBody,
  exportContents,
  formatTitle,
  isExportOf,
  plural,
  progressText,
  progressValue,
  readReport,
  rejectedShown,
  reportCounts,
  upsertExport,
  type ImportReport,
} from "../lib/exchange";
import { pageSocket } from "../lib/live";
import { statusOrder, type TaskJson } from "../lib/tasks";

export interface ExchangeHost {
  datasetId: string;
  projectId: string;
  /** What the grid shows: the folder, the filter, both as one (null: everything), and the annotation filter. */
  selection(): { folder: string; filter: Filter | null; combined: Filter | null; annotations: Filter | null };
  /** Items may have been created: refresh the tree and the grid. */
  imported(): Promise<void>;
}

const DOWNLOADS_SHOWN = 5;

export function wireExchange(host: ExchangeHost): void {
  const downloads = new Downloads(host.datasetId);
  downloads.start();
  const exportDialog = document.getElementById("export-dialog") as HTMLDialogElement | null;
  if (exportDialog) new ExportDialog(host, exportDialog, downloads).wire(button("export-button"));
  const importDialog = document.getElementById("import-dialog") as HTMLDialogElement | null;
  if (importDialog) new ImportDialog(host, importDialog).wire(button("import-button"));
}

// --- shared dialog plumbing ----------------------------------------------------------------------
abstract class ExchangeDialog {
  protected running = false;
  protected readonly form: HTMLFormElement;
  protected readonly error: HTMLElement;
  protected readonly submit: HTMLButtonElement;

  constructor(
    protected readonly dialog: HTMLDialogElement,
    prefix: string,
  ) {
    this.form = inside<HTMLFormElement>(dialog, `#${prefix}-form`);
    this.error = inside(dialog, `#${prefix}-error`);
    this.submit = inside<HTMLButtonElement>(dialog, `#${prefix}-submit`);
    for (const select of dialog.querySelectorAll<HTMLSelectElement>("select[data-formats]")) {
      select.replaceChildren(...FORMATS.map((format) => new Option(format.title, format.value)));
    }
  }

  wire(opener: HTMLButtonElement | null): void {
    opener?.addEventListener("click", () => {
      this.opening();
      this.dialog.showModal();
    });
    this.dialog.querySelectorAll("[data-close]").forEach((close) => close.addEventListener("click", () => this.dialog.close()));
    // A click on the backdrop (the dialog element itself, outside its article) closes it too.
    this.dialog.addEventListener("click", (event) => {
      if (event.target === this.dialog) this.dialog.close();
    });
    // A message about the choices goes once they change.
    this.form.addEventListener("input", () => this.showError(null));
    this.form.addEventListener("change", () => this.showError(null));
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (!this.running) void this.run();
    });
  }

  /** Called each time the dialog opens. */
  protected opening(): void {}

  protected abstract run(): Promise<void>;

  protected showError(message: string | null): void {
    this.error.textContent = message ?? "";
    this.error.hidden = !message;
  }

  /** While a command runs, its choices stay as they were sent. */
  protected lock(locked: boolean): void {
    this.running = locked;
    this.submit.disabled = locked;
    this.submit.setAttribute("aria-busy", String(locked));
    this.form.querySelectorAll<HTMLFieldSetElement>("fieldset").forEach((set) => (set.disabled = locked));
    this.form.querySelectorAll<HTMLInputElement | HTMLSelectElement>(":scope > input, :scope > select, :scope > label > input").forEach(
      (control) => (control.disabled = locked),
    );
  }
}

// --- export ---------------------------------------------------------------------------------------
class ExportDialog extends ExchangeDialog {
  private tasks: TaskJson[] | null = null;
  private readonly format = inside<HTMLSelectElement>(this.dialog, "#export-format");
  private readonly scopeFilter = inside<HTMLInputElement>(this.dialog, "#export-scope-filter");
  private readonly filterShown = inside(this.dialog, "#export-filter-shown");
  private readonly task = inside<HTMLSelectElement>(this.dialog, "#export-task");
  private readonly status = inside<HTMLInputElement>(this.dialog, "#export-status");
  private readonly statuses = inside<HTMLDataListElement>(this.dialog, "#export-statuses");
  private readonly run_ = inside(this.dialog, "#export-run");
  private readonly bar = inside<HTMLProgressElement>(this.dialog, "#export-progress");
  private readonly statusText = inside(this.dialog, "#export-status-text");
  private readonly result = inside(this.dialog, "#export-result");

  constructor(
    private readonly host: ExchangeHost,
    dialog: HTMLDialogElement,
    private readonly downloads: Downloads,
  ) {
    super(dialog, "export");
    this.task.addEventListener("change", () => this.taskChosen());
  }

  protected opening(): void {
    if (!this.running) this.describeSelection();
    if (this.tasks === null) void this.loadTasks();
  }

  private describeSelection(): void {
    const { folder, filter, combined, annotations } = this.host.selection();
    this.scopeFilter.disabled = combined === null && annotations === null;
    if (this.scopeFilter.disabled) {
      if (this.scopeFilter.checked) this.form.querySelector<HTMLInputElement>("input[name=scope][value=all]")!.checked = true;
      this.filterShown.textContent = "No folder is open and no filter is applied.";
      return;
    }
    const parts: (string | Node)[] = [];
    if (folder !== "/") parts.push("Folder ", code(folder));
    if (filter) parts.push(parts.length ? " · filter " : "Filter ", code(JSON.stringify(filter)));
    if (annotations) parts.push(parts.length ? " · with an annotation matching " : "With an annotation matching ", code(JSON.stringify(annotations)));
    this.filterShown.replaceChildren(...parts);
  }

  private async loadTasks(): Promise<void> {
    try {
      const page = await api<{ items: TaskJson[] }>("/annotationtasks/query", {
        json: {
          resource: "tasks",
          filter: { datasetId: this.host.datasetId },
          sort: { createdAt: "descending" },
          page: 0,
          pageSize: 200,
          context: { projectIds: [this.host.projectId] },
        },
      });
      this.tasks = page.items;
    } catch {
      this.tasks = null; // try again next time the dialog opens
      return;
    }
    const options = this.tasks.map((task) => new Option(task.name, task.id));
    if (options.length === 0) {
      this.task.replaceChildren(new Option("No tasks on this dataset", ""));
      this.task.disabled = true;
    } else {
      this.task.replaceChildren(new Option("Any: no task filter", ""), ...options);
    }
  }

  private taskChosen(): void {
    const task = this.tasks?.find((t) => t.id === this.task.value);
    this.status.disabled = !task;
    this.status.required = Boolean(task);
    if (!task) this.status.value = "";
    this.statuses.replaceChildren(...(task ? statusOrder(task).map((s) => new Option(s, s)) : []));
  }

  protected async run(): Promise<void> {
    const data = new FormData(this.form);
    const { combined, annotations } = this.host.selection();
    const built = buildExportBody({
      format: this.format.value,
      scope: data.get("scope") === "filter" ? "filter" : "all",
      filter: combined,
      annotations,
      taskId: this.task.value,
      status: this.status.value,
      includeImages: data.get("includeImages") !== null,
    });
    if (!built.ok) {
      this.showError(built.error);
      return;
    }
    this.showError(null);
    this.lock(true);
    this.run_.hidden = false;
    this.result.hidden = true;
    this.result.replaceChildren();
    this.bar.value = 0;
    this.statusText.textContent = "Starting…";
    try {
      const command = await api<Command>(`/datasets/${this.host.datasetId}/export`, { json: built.body });
      this.downloads.put(command);
      const final = await followCommand(command, (next) => {
        this.bar.value = progressValue(next);
        this.statusText.textContent = progressText(next, "Exporting");
        this.downloads.put(next);
      });
      this.finished(final);
      this.downloads.refresh();
    } catch (error) {
      this.run_.hidden = true;
      this.showError(message(error));
    } finally {
      this.lock(false);
      this.taskChosen();
    }
  }

  private finished(command: Command): void {
    if (command.status !== "success") {
      this.run_.hidden = true;
      this.showError(progressText(command, "Exporting"));
      return;
    }
    const spec = command.spec;
    this.statusText.textContent = `Done: ${exportContents(spec) || "exported"}.`;
    this.result.replaceChildren(downloadLink(spec, true));
    this.result.hidden = false;
  }
}

// --- import ---------------------------------------------------------------------------------------
class ImportDialog extends ExchangeDialog {
  private readonly file = inside<HTMLInputElement>(this.dialog, "#import-file");
  private readonly run_ = inside(this.dialog, "#import-run");
  private readonly bar = inside<HTMLProgressElement>(this.dialog, "#import-progress");
  private readonly statusText = inside(this.dialog, "#import-status-text");
  private readonly report = inside(this.dialog, "#import-report");

  constructor(
    private readonly host: ExchangeHost,
    dialog: HTMLDialogElement,
  ) {
    super(dialog, "import");
  }

  protected async run(): Promise<void> {
    const file = this.file.files?.[0];
    if (!file) {
      this.showError("Choose a file to import.");
      this.file.focus();
      return;
    }
    const data = new FormData(this.form);
    const form = new FormData();
    form.append("file", file, file.name);
    form.append("format", String(data.get("format") ?? ""));
    form.append("missingLabels", String(data.get("missingLabels") ?? "add"));
    this.showError(null);
    this.report.hidden = true;
    this.lock(true);
    this.run_.hidden = false;
    this.bar.hidden = false;
    this.bar.value = 0;
    this.statusText.classList.remove("failed");
    this.statusText.textContent = "Uploading…";
    try {
      const { body: command } = await uploadForm<Command>(`/datasets/${this.host.datasetId}/import`, form, (loaded, total) => {
        this.statusText.textContent = `Uploading · ${Math.round((100 * loaded) / Math.max(total, 1))}%`;
      });
      const final = await followCommand(command, (next) => {
        this.bar.value = progressValue(next);
        this.statusText.textContent = progressText(next, "Importing");
      });
      this.finished(final);
      if (final.status === "success") await this.host.imported();
    } catch (error) {
      this.run_.hidden = true;
      this.showError(message(error));
    } finally {
      this.lock(false);
    }
  }

  private finished(command: Command): void {
    const report = readReport(command.spec);
    if (command.status === "success") {
      this.statusText.textContent = "Done: the import is complete.";
    } else if (report && report.rejectedCount > 0) {
      // An all-or-nothing import that failed has no progress to show, only its reasons.
      this.bar.hidden = true;
      this.statusText.classList.add("failed");
      this.statusText.textContent = `Failed: ${plural(report.rejectedCount, "entry", "entries")} rejected; nothing was imported.`;
    } else {
      this.run_.hidden = true;
      this.showError(progressText(command, "Importing"));
    }
    if (report) this.showReport(report);
  }

  private showReport(report: ImportReport): void {
    inside(this.report, "#import-counts").replaceChildren(
      ...reportCounts(report).map(([term, value]) => {
        const wrap = document.createElement("div");
        const dt = document.createElement("dt");
        dt.textContent = term;
        const dd = document.createElement("dd");
        dd.textContent = String(value);
        wrap.append(dt, dd);
        return wrap;
      }),
    );
    const labels = inside(this.report, "#import-labels");
    labels.hidden = report.labelsAdded.length === 0;
    labels.replaceChildren("Labels added to the ontology: ", ...report.labelsAdded.flatMap((tag, i) => (i ? [", ", code(tag)] : [code(tag)])));
    const rejected = inside(this.report, "#import-rejected");
    rejected.hidden = report.rejectedCount === 0;
    if (report.rejectedCount) {
      const { shown, more } = rejectedShown(report);
      inside(rejected, "#import-rejected-title").textContent = `Rejected entries (${report.rejectedCount})`;
      inside(rejected, "#import-rejected-body").replaceChildren(
        ...shown.map((entry) => {
          const row = document.createElement("tr");
          const where = document.createElement("td");
          where.append(code(entry.entry));
          const why = document.createElement("td");
          why.textContent = entry.reason;
          row.append(where, why);
          return row;
        }),
      );
      const moreText = inside(rejected, "#import-rejected-more");
      moreText.hidden = more <= 0;
      moreText.textContent = more > 0 ? `… and ${plural(more, "more entry", "more entries")}.` : "";
    }
    const skipped = inside<HTMLDetailsElement>(this.report, "#import-skipped");
    skipped.hidden = report.skippedCount === 0;
    inside(skipped, "#import-skipped-title").textContent =
      `${plural(report.skippedCount, "entry", "entries")} skipped: no such item in the dataset`;
    inside(skipped, "#import-skipped-list").replaceChildren(
      ...report.skipped.slice(0, 50).map((entry) => {
        const li = document.createElement("li");
        li.append(code(entry.entry), ` ${entry.reason}`);
        return li;
      }),
    );
    this.report.hidden = false;
  }
}

// --- downloads ------------------------------------------------------------------------------------
class Downloads {
  private list: Command[] = [];
  private expanded = false;
  private readonly section = document.getElementById("downloads");
  private readonly body = document.getElementById("downloads-body");
  private readonly more = document.getElementById("downloads-more") as HTMLButtonElement | null;
  private readonly rows = new Map<string, { row: HTMLTableRowElement; key: string }>();
  readonly refresh = coalesced(() => this.load());

  constructor(private readonly datasetId: string) {}

  start(): void {
    if (!this.section || !this.body) return;
    const socket = pageSocket();
    socket.onEvent((message) => {
      if (message.event !== "command.updated") return;
      const command = message.data as unknown as Command;
      if (isExportOf(command, this.datasetId)) this.put(command);
    });
    socket.onReconnect(() => this.refresh());
    this.more?.addEventListener("click", () => {
      this.expanded = !this.expanded;
      this.render();
    });
    this.refresh();
  }

  put(command: Command): void {
    this.list = upsertExport(this.list, command);
    this.render();
  }

  private async load(): Promise<void> {
    try {
      const { items } = await api<{ items: Command[] }>(`/datasets/${this.datasetId}/exports`);
      // Events may have brought newer states than this reply: merge rather than replace.
      this.list = items.reduce(upsertExport, this.list);
      this.render();
    } catch {
      /* the list stays as it was; the next event or reconnection tries again */
    }
  }

  /** Rows are updated in place, so that a focused link survives a neighbour's progress. */
  private render(): void {
    if (!this.section || !this.body) return;
    this.section.hidden = this.list.length === 0;
    let previous: HTMLTableRowElement | null = null;
    this.list.forEach((command, index) => {
      const key = `${command.status}:${command.progress}`;
      let entry = this.rows.get(command.id);
      if (!entry) {
        entry = { row: document.createElement("tr"), key: "" };
        this.rows.set(command.id, entry);
        if (previous) previous.after(entry.row);
        else this.body!.prepend(entry.row);
      }
      if (entry.key !== key) {
        fillRow(entry.row, command);
        entry.key = key;
      }
      entry.row.hidden = !this.expanded && index >= DOWNLOADS_SHOWN;
      previous = entry.row;
    });
    if (this.more) {
      const extra = this.list.length - DOWNLOADS_SHOWN;
      this.more.hidden = extra <= 0;
      this.more.textContent = this.expanded ? "Show fewer" : `Show ${plural(extra, "older export")}`;
      this.more.setAttribute("aria-expanded", String(this.expanded));
    }
  }
}

function fillRow(row: HTMLTableRowElement, command: Command): void {
  const spec = command.spec;
  const format = document.createElement("td");
  format.textContent = formatTitle(spec.format);
  const created = document.createElement("td");
  const time = document.createElement("time");
  time.dateTime = String((command as Command & { createdAt?: string }).createdAt ?? "");
  time.textContent = time.dateTime ? new Date(time.dateTime).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" }) : "";
  created.append(time);
  const contents = document.createElement("td");
  contents.textContent = exportContents(spec) || "—";
  const file = document.createElement("td");
  if (command.status === "success" && typeof spec.downloadUrl === "string") {
    file.append(downloadLink(spec, false));
  } else if (isFinished(command)) {
    const failed = document.createElement("span");
    failed.className = "badge badge-off";
    failed.textContent = command.status === "failed" ? "Failed" : "Stopped";
    const why = document.createElement("small");
    why.className = "muted row-error";
    why.textContent = command.error ?? "";
    why.title = command.error ?? "";
    file.append(failed, why);
  } else {
    const running = document.createElement("div");
    running.className = "row-running";
    const bar = document.createElement("progress");
    bar.max = 100;
    bar.value = progressValue(command);
    bar.setAttribute("aria-label", `${formatTitle(spec.format)} export progress`);
    const text = document.createElement("small");
    text.className = "muted";
    text.textContent = progressText(command, "Exporting");
    running.append(bar, text);
    file.append(running);
  }
  row.replaceChildren(format, created, contents, file);
}

// --- small helpers ----------------------------------------------------------------------------------
/** A link named "Download <file name>"; in a narrow table cell only "Download" shows. */
function downloadLink(spec: Record<string, unknown>, showName: boolean): HTMLAnchorElement {
  const link = document.createElement("a");
  const name = String(spec.fileName ?? "export.zip");
  link.href = String(spec.downloadUrl);
  link.download = name;
  link.className = "download-link";
  if (showName) {
    link.textContent = `Download ${name}`;
  } else {
    link.textContent = "Download";
    link.title = name;
    link.setAttribute("aria-label", `Download ${name}`);
  }
  return link;
}

function code(text: string): HTMLElement {
  const element = document.createElement("code");
  element.textContent = text;
  return element;
}

function message(error: unknown): string {
  return error instanceof ApiError || error instanceof Error ? error.message : String(error);
}

function button(id: string): HTMLButtonElement | null {
  return document.getElementById(id) as HTMLButtonElement | null;
}

function inside<T extends HTMLElement = HTMLElement>(root: ParentNode, selector: string): T {
  const element = root.querySelector<T>(selector);
  if (!element) throw new Error(`${selector} is missing from the page`);
  return element;
}
