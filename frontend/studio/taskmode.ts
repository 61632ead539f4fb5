/**
 * The studio's task mode (/studio/<item>?task=<id>): the task's actions (Complete / Discard,
 * or Approve / Discard in a review) set the open item's status and open the next item in
 * place, after every pending save has gone through. In a review, each object can be approved
 * or sent back with an issue; an annotator sees the issues on a reopened item and marks each
 * fixed object for review. Only this module and the sync module talk to the server.
 */
import { api, ApiError } from "../lib/api";
import { pageSocket } from "../lib/live";
import { studioUrl, type NextItem, type TaskAction } from "../lib/tasks";
import type { WireAnnotation } from "./adapter";
import { Mode, type Annotation } from "./model";
import { objectName } from "./panels";
import type { Studio } from "./studio";
import type { NoteBox } from "./tools/note";

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

interface NoteThread {
  status?: string;
  messages?: { creator: string; time: number; body: string }[];
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  node.append(...children);
  return node;
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

export class TaskMode {
  private busy = false;
  private finished = false;
  private queueGeneration = 0;
  private readonly buttons: HTMLButtonElement[] = [];
  private readonly position = document.getElementById("task-position")!;
  private readonly flag = document.getElementById("task-flag")!;
  private readonly alertBox = document.getElementById("task-alert")!;
  private readonly done = document.getElementById("task-done")!;
  private readonly reviewPanel = document.getElementById("review-panel")!;
  private readonly reviewBody = document.getElementById("review-body")!;
  private reviewSignature = "";
  private issueFormFor: string | null = null;
  /** Reviewers: a note box dropped on the canvas, waiting for its message. */
  private noteDraft: NoteBox | null = null;
  private readonly noteButton = el("button", { type: "button", class: "studio-button small", "aria-label": "Drop a note", "aria-keyshortcuts": "N", "aria-pressed": "false", title: "Drop a note where an object is missing (N)" }, "Drop a note");
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
    studio.refreshListeners.add(() => this.renderReview());
    if (task.type === "qa") {
      studio.reviewNotes = true;
      this.noteButton.addEventListener("click", () => {
        studio.setMode(studio.mode === Mode.Note ? Mode.Select : Mode.Note);
        if (studio.mode === Mode.Note) studio.announce("Drag a box or click on the image where the object is missing.");
      });
      this.reviewBody.before(el("div", { class: "review-tools" }, this.noteButton));
      studio.noteDropped.add((box) => {
        this.noteDraft = box;
        this.reviewSignature = "";
        this.renderReview();
        this.reviewBody.querySelector<HTMLTextAreaElement>("#note-message")?.focus();
      });
    }
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
    this.reviewSignature = "";
    this.nextButton.hidden = true;
    this.flag.classList.toggle("task-flag-good", this.task.type === "qa" && reopened);
    this.issueFormFor = null;
    this.noteDraft = null;
    this.studio.noteTool.clear();
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
      const first = fixed[0] ?? this.pins()[0];
      this.studio.select(first ? [first.key] : []);
    } else {
      this.flag.hidden = true;
    }
    this.renderReview();
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
    this.alertBox.hidden = true;
    this.alertBox.replaceChildren();
  }

  private showAlert(text: string, ...extra: Node[]): void {
    const dismiss = el("button", { type: "button", class: "studio-button small" }, "Dismiss");
    dismiss.addEventListener("click", () => this.hideAlert());
    this.alertBox.replaceChildren(el("p", {}, text), ...extra, el("div", { class: "task-alert-actions" }, dismiss));
    this.alertBox.hidden = false;
  }

  /** The completion check's answer: each object that misses required attributes, a click away. */
  private showProblems(action: TaskAction, problems: Problem[]): void {
    const list = el("ul", { class: "task-problems" });
    for (const problem of problems) {
      const key = this.studio.sync.queue.keyFor(problem.annotationId) ?? problem.annotationId;
      const annotation = this.studio.store.get(key);
      const name = annotation ? this.nameOf(annotation) : problem.label;
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

  private nameOf(a: Annotation): string {
    return objectName(a, this.studio.store.keys().indexOf(a.key) + 1, this.studio.label(a.label)?.name ?? a.label);
  }

  // --- per-object review -------------------------------------------------------------------------
  /** The note thread of an object, or the pin itself when `a` is a standalone note. */
  private noteOf(a: Annotation): Annotation | undefined {
    if (a.type === "note") return a;
    const id = this.studio.sync.queue.serverCopy(a.key)?.id ?? a.key;
    return this.studio.store.all().find((n) => n.type === "note" && n.parentId === id);
  }

  private threadOf(note: Annotation | undefined): NoteThread | null {
    if (!note || note.geometry.kind !== "note") return null;
    return ((note.geometry.raw as { note?: NoteThread } | null)?.note ?? null) as NoteThread | null;
  }

  /** Notes a reviewer dropped where an object is missing (not pinned to an object). */
  private pins(): Annotation[] {
    return this.studio.store.all().filter((a) => a.type === "note" && !a.parentId);
  }

  private renderReview(): void {
    const { studio } = this;
    const reviewing = this.task.type === "qa";
    const selected = studio.selected.size === 1 ? studio.store.get([...studio.selected][0]) : undefined;
    this.noteButton.setAttribute("aria-pressed", String(studio.mode === Mode.Note));
    const target = selected && (selected.type !== "note" || !selected.parentId) ? selected : undefined;
    const pins = this.pins();
    const flagged = studio.store.all().filter((a) => (a.type !== "note" || !a.parentId) && (a.status === "issue" || a.status === "review"));
    const note = target ? this.noteOf(target) : undefined;
    const thread = this.threadOf(note);
    const pinMessages = pins.map((p) => this.threadOf(p)?.messages?.length ?? 0);
    const signature = JSON.stringify([target?.key, target?.status, thread?.messages?.length, this.issueFormFor, this.noteDraft, flagged.length, pinMessages, studio.store.size]);
    if (signature === this.reviewSignature) return;
    this.reviewSignature = signature;
    // The panel is for reviewers, and for annotators once something was sent back.
    this.reviewPanel.hidden = !reviewing && !flagged.length && !thread;
    if (this.reviewPanel.hidden) return;
    if (reviewing && this.noteDraft) {
      this.reviewBody.replaceChildren(this.noteForm(this.noteDraft));
      return;
    }
    if (!target) {
      const hint = reviewing
        ? "Select an object to approve it or raise an issue; drop a note where one is missing; approve the whole item with the button at the top."
        : `${flagged.length} object${flagged.length === 1 ? " was" : "s were"} reviewed. Select one to read the reviewer's note.`;
      const parts: Node[] = [el("p", { class: "muted" }, hint)];
      if (pins.length) {
        const list = el("ul", { class: "review-pins", "aria-label": "Note pins" });
        for (const pin of pins) {
          const first = this.threadOf(pin)?.messages?.[0]?.body ?? "";
          const open = el("button", { type: "button", class: "linklike" }, this.nameOf(pin));
          open.addEventListener("click", () => {
            studio.select([pin.key]);
            studio.panels.scrollToSelected();
          });
          list.append(el("li", {}, open, first ? `: ${first}` : ""));
        }
        parts.push(list);
      }
      this.reviewBody.replaceChildren(...parts);
      return;
    }
    const name = this.nameOf(target);
    const parts: Node[] = [];
    const state = el("p", { class: "review-state" }, el("span", { class: "attribute-target" }, name));
    if (target.status) state.append(" ", el("span", { class: `badge-status status-${target.status}` }, target.status));
    parts.push(state);
    if (thread?.messages?.length) {
      const list = el("ol", { class: "review-thread", "aria-label": `Review notes on ${name}` });
      for (const m of thread.messages) {
        list.append(el("li", {}, el("span", { class: "review-author" }, m.creator), " ", el("time", { datetime: new Date(m.time).toISOString() }, new Date(m.time).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })), el("p", {}, m.body)));
      }
      parts.push(list);
      if (note && (reviewing || studio.canEdit)) parts.push(this.replyForm(note, name));
    }
    const actions = el("div", { class: "review-actions" });
    if (target.type === "note") {
      if (!reviewing) parts.push(el("p", { class: "muted review-hint" }, "The reviewer says an object is missing here: draw it, reply, then complete the item."));
    } else if (reviewing && this.issueFormFor === target.key) {
      parts.push(this.issueForm(target, name));
    } else if (reviewing) {
      const approve = el("button", { type: "button", class: "studio-button small", "aria-label": `Approve ${name}` }, "Approve");
      approve.addEventListener("click", () => void this.setStatus(target, "approved"));
      const issue = el("button", { type: "button", class: "studio-button small danger", "aria-label": `Raise issue on ${name}` }, "Raise issue");
      issue.addEventListener("click", () => {
        this.issueFormFor = target.key;
        this.renderReview();
        this.reviewBody.querySelector("textarea")?.focus();
      });
      actions.append(approve, issue);
      if (target.status) {
        const clear = el("button", { type: "button", class: "studio-button small", "aria-label": `Clear the review status of ${name}` }, "Clear");
        clear.addEventListener("click", () => void this.setStatus(target, null));
        actions.append(clear);
      }
    } else if (target.status === "issue" && studio.canEdit) {
      const fixed = el("button", { type: "button", class: "studio-button small primary", "aria-label": `Mark ${name} for review` }, "Mark for review");
      fixed.addEventListener("click", () => void this.setStatus(target, "review", "Fixed."));
      actions.append(fixed);
      parts.push(el("p", { class: "muted review-hint" }, "Fix the object, then mark it for review and complete the item."));
    }
    if (actions.childElementCount) parts.push(actions);
    this.reviewBody.replaceChildren(...parts);
  }

  /** The message of a note pin just dropped; saving sends the item back like an issue does. */
  private noteForm(box: NoteBox): HTMLFormElement {
    const id = "note-message";
    const text = el("textarea", { id, rows: "3", required: "", placeholder: "What is missing here?" });
    const send = el("button", { type: "submit", class: "studio-button small danger" }, "Save note");
    const cancel = el("button", { type: "button", class: "studio-button small" }, "Cancel");
    const form = el("form", { class: "issue-form", "aria-label": "New note" }, el("label", { for: id }, "Note message"), text, el("div", { class: "review-actions" }, send, cancel));
    cancel.addEventListener("click", () => {
      this.noteDraft = null;
      this.studio.noteTool.clear();
      this.renderReview();
    });
    text.addEventListener("keydown", (event) => {
      if (event.key === "Escape") cancel.click();
      event.stopPropagation();
    });
    onMessage(form, text, send, (body) => this.saveNote(box, body));
    return form;
  }

  private replyForm(note: Annotation, name: string): HTMLFormElement {
    const id = "note-reply";
    const text = el("textarea", { id, rows: "2", required: "", placeholder: "Answer the thread" });
    const send = el("button", { type: "submit", class: "studio-button small" }, "Send reply");
    const form = el("form", { class: "issue-form", "aria-label": `Reply on ${name}` }, el("label", { for: id }, "Reply"), text, el("div", { class: "review-actions" }, send));
    text.addEventListener("keydown", (event) => event.stopPropagation());
    onMessage(form, text, send, (body) => this.reply(note, body));
    return form;
  }

  private async saveNote(box: NoteBox, body: string): Promise<void> {
    if (!(await this.studio.sync.flushAll())) {
      this.showAlert(`Your changes are not saved yet (${this.studio.saveStatus.message}); try again once they are.`);
      return;
    }
    const raw = {
      type: "note",
      label: "note",
      coordinates: { box: [{ x: box.x1, y: box.y1 }, { x: box.x2, y: box.y2 }], note: { status: "issue", messages: [] } },
      metadata: { system: { status: "issue" } },
    };
    try {
      const [created] = await api<WireAnnotation[]>(`/items/${this.studio.itemId}/annotations`, { json: [raw] });
      // The server stamps who wrote the message and when.
      const note = await api<WireAnnotation>(`/annotations/${created.id}/messages`, { json: { body } });
      this.studio.sync.remote({ created: [note] }, true);
      this.noteDraft = null;
      this.studio.noteTool.clear();
      this.studio.setMode(Mode.Select);
      this.studio.select([this.studio.sync.queue.keyFor(note.id) ?? note.id]);
      this.nextButton.hidden = false;
      this.flag.hidden = false;
      this.flag.textContent = "Sent back to the annotator";
      this.flag.classList.remove("task-flag-good");
      this.studio.announce("Note saved; the item goes back to its annotator.");
    } catch (error) {
      this.showAlert(`Could not save the note: ${message(error)}`);
    }
    this.reviewSignature = "";
    this.renderReview();
  }

  private async reply(note: Annotation, body: string): Promise<void> {
    const id = this.studio.sync.queue.serverCopy(note.key)?.id ?? note.key;
    try {
      const answer = await api<WireAnnotation>(`/annotations/${id}/messages`, { json: { body } });
      this.studio.sync.remote({ updated: [answer] }, true);
      this.studio.announce("Reply sent.");
    } catch (error) {
      this.showAlert(`Could not send the reply: ${message(error)}`);
    }
    this.reviewSignature = "";
    this.renderReview();
    this.reviewBody.querySelector<HTMLTextAreaElement>("#note-reply")?.focus();
  }

  private issueForm(target: Annotation, name: string): HTMLFormElement {
    const id = "issue-message";
    const text = el("textarea", { id, rows: "3", required: "", placeholder: "What is wrong?" });
    const send = el("button", { type: "submit", class: "studio-button small danger" }, "Send issue");
    const cancel = el("button", { type: "button", class: "studio-button small" }, "Cancel");
    const form = el("form", { class: "issue-form", "aria-label": `Issue on ${name}` }, el("label", { for: id }, "Issue message"), text, el("div", { class: "review-actions" }, send, cancel));
    cancel.addEventListener("click", () => {
      this.issueFormFor = null;
      this.renderReview();
    });
    text.addEventListener("keydown", (event) => {
      if (event.key === "Escape") cancel.click();
      event.stopPropagation(); // the studio's shortcuts stay out of the text
    });
    onMessage(form, text, null, (body) => {
      this.issueFormFor = null;
      return this.setStatus(target, "issue", body);
    });
    return form;
  }

  /** A review status on one object; the answer is merged into the store (no event echoes our own change). */
  private async setStatus(target: Annotation, status: string | null, note?: string): Promise<void> {
    if (!(await this.studio.sync.flushAll())) {
      this.showAlert(`Your changes are not saved yet (${this.studio.saveStatus.message}); try again once they are.`);
      return;
    }
    const id = this.studio.sync.queue.serverCopy(target.key)?.id;
    if (!id) {
      this.showAlert("This object is not saved yet; try again in a moment.");
      return;
    }
    try {
      const answer = await api<{ annotation: WireAnnotation; note: WireAnnotation | null }>(`/annotations/${id}/status`, {
        json: note ? { status, message: note } : { status },
      });
      this.studio.sync.remote({ updated: [answer.annotation, ...(answer.note ? [answer.note] : [])] }, true);
      const name = this.nameOf(target);
      if (status === "issue" && this.task.type === "qa") {
        this.nextButton.hidden = false; // the item went back to its annotator; nothing left to approve here
        this.flag.hidden = false;
        this.flag.textContent = "Sent back to the annotator";
        this.flag.classList.remove("task-flag-good");
      }
      this.studio.announce(status === "issue" ? `Issue raised on ${name}.` : status === "approved" ? `${name} approved.` : status === "review" ? `${name} marked for review.` : `${name}: review status cleared.`);
    } catch (error) {
      this.showAlert(`Could not set the review status: ${message(error)}`);
    }
    this.reviewSignature = "";
    this.renderReview();
  }
}

/** Sends a message form's trimmed text to `act` (an empty one puts the focus back in the field);
 * `send`, when given, stays disabled while `act` runs. */
function onMessage(
  form: HTMLFormElement,
  text: HTMLTextAreaElement,
  send: HTMLButtonElement | null,
  act: (body: string) => Promise<void>,
): void {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const body = text.value.trim();
    if (!body) {
      text.focus();
      return;
    }
    if (send) send.disabled = true;
    void act(body).finally(() => {
      if (send) send.disabled = false;
    });
  });
}
