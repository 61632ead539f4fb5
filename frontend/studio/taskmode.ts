/**
 * The studio's task mode (/studio/<item>?task=<id>): the task's actions (Complete / Discard,
 * or Approve / Discard in a review) set the open item's status and open the next item in
 * place, after every pending save has gone through. In a review, each object can be approved
 * or sent back with an issue; an annotator sees the issues on a reopened item and marks each
 * fixed object for review (the review panel, review.ts, with this task's hooks). Only these
 * modules and the sync module talk to the server.
 */
import { api, ApiError } from "../lib/api";
import { pageSocket } from "../lib/live";
import { studioUrl, type NextItem, type TaskAction } from "../lib/tasks";
import { Mode } from "./model";
import { el, hideAlert, message, showAlert } from "./dom";
import { nameOf } from "./panels";
import { ReviewPanel } from "./review";
import type { Studio } from "./studio";

export interface TaskData {
  id: string;
  name: string;
  type: "annotation" | "qa";
  allocation: "distribution" | "pulling";
  actions: TaskAction[];
  assignmentId: string | null;
}

interface QueueEntry {
  reopened: boolean;
  item: { id: string };
}

interface QueuePage {
  items: QueueEntry[];
  totalItemsCount: number;
  reopenedCount: number;
}

interface Problem {
  annotationId: string;
  label: string;
  missing: string[];
}

export class TaskMode {
  private busy = false;
  private finished = false;
  private queueGeneration = 0;
  private readonly buttons: HTMLButtonElement[] = [];
  private readonly position = document.getElementById("task-position")!;
  private readonly flag = document.getElementById("task-flag")!;
  private readonly alertBox = document.getElementById("task-alert")!;
  private readonly done = document.getElementById("task-done")!;
  private readonly review: ReviewPanel;
  /** Annotators: an item a reviewer sent back while another one is open. */
  private readonly sentBack = el("button", { type: "button", class: "studio-button small warn" });
  /** Reviewers: after sending the item back, move on without approving it. */
  private readonly nextButton = el("button", { type: "button", class: "studio-button" }, "Next item");

  constructor(
    private readonly studio: Studio,
    private readonly task: TaskData,
  ) {
    this.buildButtons();
    this.sentBack.hidden = true;
    this.sentBack.addEventListener("click", () => {
      const itemId = this.sentBack.dataset.itemId;
      if (itemId) void this.openSpecific(itemId);
    });
    this.flag.after(this.sentBack);
    this.nextButton.hidden = true;
    this.nextButton.addEventListener("click", () => void this.moveOn());
    document.getElementById("task-actions")!.prepend(this.nextButton);
    this.review = new ReviewPanel(studio, {
      reviewing: task.type === "qa",
      objectReview: task.type === "qa",
      inTask: true,
      alert: (text) => this.showAlert(text),
      sentBack: () => {
        this.nextButton.hidden = false; // the item went back to its annotator: move on without approving it
        this.flag.hidden = false;
        this.flag.textContent = "Sent back to the annotator";
        this.flag.classList.remove("task-flag-good");
      },
    });
    const socket = pageSocket();
    socket.onEvent((event) => {
      if (event.event !== "assignment.changed" || event.data.taskId !== task.id) return;
      // Waiting on an empty queue: new work (a pull, a completion to review, a reopened item) opens at once.
      if (this.finished) void this.next();
      else void this.refreshQueue();
    });
    socket.onReconnect(() => void (this.finished ? this.next() : this.refreshQueue()));
    studio.ready.then(
      () => {
        if (task.type === "qa") studio.setMode(Mode.Select); // reviewers look and point before they draw
        this.opened();
        void this.refreshQueue();
      },
      () => undefined,
    );
  }

  // --- the item's status ---------------------------------------------------------------------------
  private buildButtons(): void {
    const host = document.getElementById("task-actions")!;
    this.task.actions.forEach((action, index) => {
      const button = el("button", { type: "button", class: `studio-button ${index === 0 ? "primary" : action.action === "discard" ? "danger" : ""}`, "data-status": action.action }, action.displayName);
      if (index === 0) {
        button.setAttribute("aria-keyshortcuts", "Control+Enter");
        button.title = `${action.displayName} and open the next item (Ctrl+Enter)`;
      }
      button.addEventListener("click", () => void this.act(action));
      this.buttons.push(button);
      host.append(button);
    });
    document.addEventListener("keydown", (event) => {
      if ((event.ctrlKey || event.metaKey) && event.key === "Enter" && this.task.actions[0] && !this.busy) {
        event.preventDefault();
        void this.act(this.task.actions[0]);
      }
    });
  }

  private setBusy(busy: boolean): void {
    this.busy = busy;
    for (const button of [...this.buttons, this.nextButton, this.sentBack]) {
      button.disabled = busy || this.finished;
      if (busy) button.setAttribute("aria-busy", "true");
      else button.removeAttribute("aria-busy");
    }
  }

  private async act(action: TaskAction): Promise<void> {
    if (this.busy || this.finished) return;
    this.setBusy(true);
    this.hideAlert();
    const itemId = this.studio.itemId;
    try {
      if (!(await this.studio.sync.flushAll())) {
        this.showAlert(`Not marked “${action.displayName}”: your changes are not saved yet (${this.studio.saveStatus.message}).`);
        return;
      }
      try {
        await api(`/assignments/items/tasks/${this.task.id}/status`, {
          json: { itemIds: [itemId], statusPayload: { operation: "create", status: action.action } },
        });
      } catch (error) {
        const details = error instanceof ApiError ? (error.details as { problems?: Problem[] } | undefined) : undefined;
        if (details?.problems?.length) this.showProblems(action, details.problems);
        else this.showAlert(`Could not mark this item “${action.displayName}”: ${message(error)}`);
        return;
      }
      const title = this.studio.root.querySelector(".studio-title")?.textContent ?? "The item";
      this.studio.announce(`${title}: marked “${action.displayName}”.`);
      await this.next();
    } finally {
      this.setBusy(false);
    }
  }

  private async moveOn(): Promise<void> {
    if (this.busy) return;
    this.setBusy(true);
    try {
      await this.next();
    } finally {
      this.setBusy(false);
    }
  }

  /** Open a given item of the queue in place (one sent back by a reviewer), after saving. */
  private async openSpecific(itemId: string): Promise<void> {
    if (this.busy) return;
    this.setBusy(true);
    this.hideAlert();
    try {
      if (!(await this.studio.sync.flushAll())) {
        this.showAlert(`Your changes are not saved yet (${this.studio.saveStatus.message}); try again once they are.`);
        return;
      }
      await this.studio.openItem(itemId);
      window.history.replaceState(null, "", studioUrl(itemId, this.task.id));
      this.finish(false);
      this.opened(true);
      void this.refreshQueue();
    } catch (error) {
      this.showAlert(`Could not open the item: ${message(error)}`);
    } finally {
      this.setBusy(false);
    }
  }

  /** Open the next item of the caller's queue in place, or show that the queue is empty. */
  private async next(): Promise<void> {
    let next: NextItem | null;
    try {
      ({ next } = await api<{ next: NextItem | null }>(`/annotationtasks/${this.task.id}/next`));
    } catch (error) {
      this.showAlert(`Could not fetch the next item: ${message(error)}`);
      return;
    }
    if (!next) {
      this.finish(true);
      void this.refreshQueue();
      return;
    }
    this.finish(false);
    if (next.item.id !== this.studio.itemId) {
      try {
        await this.studio.openItem(next.item.id);
      } catch (error) {
        // Opening in place failed half way: a full page load is the safe fallback.
        window.location.assign(studioUrl(next.item.id, this.task.id));
        console.error(error);
        return;
      }
      window.history.replaceState(null, "", studioUrl(next.item.id, this.task.id));
    }
    this.opened(next.reopened);
    void this.refreshQueue();
  }

  private finish(finished: boolean): void {
    this.finished = finished;
    this.done.hidden = !finished;
    this.studio.root.dataset.taskDone = String(finished);
    this.setBusy(this.busy);
    if (finished) {
      this.position.textContent = "Queue empty";
      this.flag.hidden = true;
      this.nextButton.hidden = true;
      this.sentBack.hidden = true;
      this.hideAlert();
    }
  }

  /** Called when an item is on screen: point at what a reviewer sent back. */
  private opened(reopened = false): void {
    this.review.reset();
    this.nextButton.hidden = true;
    this.flag.classList.toggle("task-flag-good", this.task.type === "qa" && reopened);
    const issues = this.studio.store.all().filter((a) => a.status === "issue" && (a.type !== "note" || !a.parentId));
    if (this.task.type === "annotation" && issues.length) {
      this.flag.hidden = false;
      this.flag.textContent = `Sent back: ${issues.length} issue${issues.length === 1 ? "" : "s"}`;
      this.studio.select([issues[0].key]);
      this.studio.announce(`A reviewer sent this item back with ${issues.length} issue${issues.length === 1 ? "" : "s"}. Fix, mark for review, then complete.`);
    } else if (this.task.type === "qa" && reopened) {
      this.flag.hidden = false;
      this.flag.textContent = "Fixed, back for review";
      const fixed = this.studio.store.all().filter((a) => a.status === "review" && a.type !== "note");
      // Nothing marked fixed (the issue was a missing object): show the first note pin and its replies.
      const first = fixed[0] ?? this.review.pins()[0];
      this.studio.select(first ? [first.key] : []);
    } else {
      this.flag.hidden = true;
    }
    this.review.render();
  }

  /** "Item 2 of 5 open · 3 done", from the caller's assignment. The queue comes a page at a time
   * with counts over all of it; reopened items come first, so the page shows those sent back. */
  private async refreshQueue(): Promise<void> {
    const assignmentId = this.task.assignmentId;
    if (!assignmentId) return;
    const generation = ++this.queueGeneration;
    try {
      const [queue, assignment] = await Promise.all([
        api<QueuePage>(`/assignments/${assignmentId}/queue`),
        api<{ itemStatus: Record<string, number> }>(`/assignments/${assignmentId}`),
      ]);
      if (generation !== this.queueGeneration) return;
      const done = Object.entries(assignment.itemStatus).filter(([s]) => s !== "issue").reduce((sum, [, n]) => sum + n, 0);
      if (this.finished) {
        this.position.textContent = `Queue empty · ${done} done`;
        return;
      }
      const current = this.studio.itemId;
      const index = queue.items.findIndex((entry) => entry.item.id === current);
      const currentReopened = index >= 0 && queue.items[index].reopened;
      const sentBackCount = this.task.type === "annotation" ? queue.reopenedCount - (currentReopened ? 1 : 0) : 0;
      const firstSentBack = queue.items.find((entry) => entry.reopened && entry.item.id !== current);
      this.sentBack.hidden = !(sentBackCount > 0 && firstSentBack);
      if (sentBackCount > 0 && firstSentBack) {
        this.sentBack.dataset.itemId = firstSentBack.item.id;
        this.sentBack.textContent = `${sentBackCount} sent back to you: open`;
        this.sentBack.setAttribute("aria-label", `Open the item sent back by review (${sentBackCount} waiting)`);
      }
      const open = queue.totalItemsCount;
      this.position.textContent = index >= 0 ? `Item ${index + 1} of ${open} open · ${done} done` : `${open} open · ${done} done`;
    } catch {
      /* the counts are a courtesy; the next refresh tries again */
    }
  }

  // --- messages ------------------------------------------------------------------------------------
  private hideAlert(): void {
    hideAlert(this.alertBox);
  }

  private showAlert(text: string, ...extra: Node[]): void {
    showAlert(this.alertBox, text, ...extra);
  }

  /** The completion check's answer: each object that misses required attributes, a click away. */
  private showProblems(action: TaskAction, problems: Problem[]): void {
    const list = el("ul", { class: "task-problems" });
    for (const problem of problems) {
      const key = this.studio.sync.queue.keyFor(problem.annotationId) ?? problem.annotationId;
      const annotation = this.studio.store.get(key);
      const name = annotation ? nameOf(this.studio, annotation) : problem.label;
      const missing = problem.missing.map((k) => this.studio.recipe.attributes.find((a) => a.key === k)?.title || k).join(", ");
      const button = el("button", { type: "button", class: "linklike" }, name);
      button.addEventListener("click", () => {
        this.studio.select([key]);
        this.studio.panels.scrollToSelected();
        document.querySelector<HTMLElement>("#attribute-form select, #attribute-form input")?.focus();
      });
      list.append(el("li", {}, button, `: missing ${missing}`));
    }
    const n = problems.length;
    this.showAlert(`Not marked “${action.displayName}”: ${n} object${n === 1 ? "" : "s"} miss${n === 1 ? "es" : ""} required attributes.`, list);
  }

}

