/**
 * The studio's review panel: the selected object's review status and its note thread, with a
 * reply form; annotators mark a fixed object for review. In a review task (`reviewing`) the
 * reviewer also approves objects, raises issues with a message and drops note pins where an
 * object is missing. Task mode adds it with the task's hooks; the studio opened from a dataset
 * adds it too, so review notes can be read and answered outside a task, and someone who may
 * review (`objectReview`) approves a selected object or raises an issue on it there.
 */
import { api } from "../lib/api";
import type { WireAnnotation } from "./adapter";
import { Mode, type Annotation } from "./model";
import { el, message } from "./dom";
import { nameOf } from "./panels";
import type { Studio } from "./studio";
import type { NoteBox } from "./tools/note";

export interface ReviewHooks {
  /** A reviewer in a review task: approve, raise issues, drop note pins. */
  reviewing: boolean;
  /** Approve a selected object, raise an issue on it or clear its status (a review task, or a role with item.review). */
  objectReview: boolean;
  /** In a task, where a fixed item is completed (the hints say so). */
  inTask: boolean;
  alert: (text: string) => void;
  /** The item went back to its annotator (an issue raised or a note pin dropped in a review). */
  sentBack: () => void;
}

interface NoteThread {
  status?: string;
  messages?: { creator: string; time: number; body: string }[];
}

export class ReviewPanel {
  private readonly panel = document.getElementById("review-panel")!;
  private readonly body = document.getElementById("review-body")!;
  private signature = "";
  private issueFormFor: string | null = null;
  /** Reviewers: a note box dropped on the canvas, waiting for its message. */
  private noteDraft: NoteBox | null = null;
  private readonly noteButton = el("button", { type: "button", class: "studio-button small", "aria-label": "Drop a note", "aria-keyshortcuts": "N", "aria-pressed": "false", title: "Drop a note where an object is missing (N)" }, "Drop a note");

  constructor(
    private readonly studio: Studio,
    private readonly hooks: ReviewHooks,
  ) {
    studio.refreshListeners.add(() => this.render());
    if (hooks.reviewing) {
      studio.reviewNotes = true;
      this.noteButton.addEventListener("click", () => {
        studio.setMode(studio.mode === Mode.Note ? Mode.Select : Mode.Note);
        if (studio.mode === Mode.Note) studio.announce("Drag a box or click on the image where the object is missing.");
      });
      this.body.before(el("div", { class: "review-tools" }, this.noteButton));
      studio.noteDropped.add((box) => {
        this.noteDraft = box;
        this.signature = "";
        this.render();
        this.body.querySelector<HTMLTextAreaElement>("#note-message")?.focus();
      });
    }
  }

  /** A new item is on screen: drop the forms and drafts of the last one. */
  reset(): void {
    this.signature = "";
    this.issueFormFor = null;
    this.noteDraft = null;
    this.studio.noteTool.clear();
  }

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
  pins(): Annotation[] {
    return this.studio.store.all().filter((a) => a.type === "note" && !a.parentId);
  }

  /** What a selection is reviewed as: a note pinned to an object stands for that object (its thread). */
  private reviewed(a: Annotation): Annotation | undefined {
    if (a.type !== "note" || !a.parentId) return a;
    const parentKey = this.studio.sync.queue.keyFor(a.parentId) ?? a.parentId;
    return this.studio.store.get(parentKey);
  }

  /** Redraws the panel for the selection; cheap when nothing it shows has changed. */
  render(): void {
    const { studio } = this;
    const { reviewing } = this.hooks;
    const selected = studio.selected.size === 1 ? studio.store.get([...studio.selected][0]) : undefined;
    this.noteButton.setAttribute("aria-pressed", String(studio.mode === Mode.Note));
    const target = selected ? this.reviewed(selected) : undefined;
    // One pass over the objects: this runs on every refresh of the panels, with thousands of shapes too.
    const pins: Annotation[] = [];
    let flagged = 0;
    for (const a of studio.store.all()) {
      const pinned = a.type === "note" && !!a.parentId;
      if (a.type === "note" && !pinned) pins.push(a);
      if (!pinned && (a.status === "issue" || a.status === "review")) flagged += 1;
    }
    const note = target ? this.noteOf(target) : undefined;
    const thread = this.threadOf(note);
    const pinMessages = pins.map((p) => this.threadOf(p)?.messages?.length ?? 0);
    const signature = JSON.stringify([target?.key, target?.status, thread?.messages?.length, this.issueFormFor, this.noteDraft, flagged, pinMessages, studio.store.size]);
    if (signature === this.signature) return;
    this.signature = signature;
    // The panel is for reviewers, for annotators once something was sent back, and outside a task for
    // whoever may review the selected object.
    this.panel.hidden = !reviewing && !flagged && !thread && !(this.hooks.objectReview && target);
    if (this.panel.hidden) return;
    if (reviewing && this.noteDraft) {
      this.body.replaceChildren(this.noteForm(this.noteDraft));
      return;
    }
    if (!target) {
      const hint = reviewing
        ? "Select an object to approve it or raise an issue; drop a note where one is missing; approve the whole item with the button at the top."
        : `${flagged} object${flagged === 1 ? " was" : "s were"} reviewed. Select one to read the reviewer's note.`;
      const parts: Node[] = [el("p", { class: "muted" }, hint)];
      if (pins.length) {
        const list = el("ul", { class: "review-pins", "aria-label": "Note pins" });
        for (const pin of pins) {
          const first = this.threadOf(pin)?.messages?.[0]?.body ?? "";
          const open = el("button", { type: "button", class: "linklike" }, nameOf(this.studio, pin));
          open.addEventListener("click", () => {
            studio.select([pin.key]);
            studio.panels.scrollToSelected();
          });
          list.append(el("li", {}, open, first ? `: ${first}` : ""));
        }
        parts.push(list);
      }
      this.body.replaceChildren(...parts);
      return;
    }
    const name = nameOf(this.studio, target);
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
      if (!reviewing) parts.push(el("p", { class: "muted review-hint" }, `The reviewer says an object is missing here: draw it and reply${this.hooks.inTask ? ", then complete the item" : ""}.`));
    } else if (this.hooks.objectReview && this.issueFormFor === target.key) {
      parts.push(this.issueForm(target, name));
    } else {
      // Someone who may both fix and review (an owner outside a task) gets both.
      if (target.status === "issue" && studio.canEdit && !reviewing) {
        const fixed = el("button", { type: "button", class: "studio-button small primary", "aria-label": `Mark ${name} for review` }, "Mark for review");
        fixed.addEventListener("click", () => void this.setStatus(target, "review", "Fixed."));
        actions.append(fixed);
        parts.push(el("p", { class: "muted review-hint" }, `Fix the object, then mark it for review${this.hooks.inTask ? " and complete the item" : ""}.`));
      }
      if (this.hooks.objectReview) {
        const approve = el("button", { type: "button", class: "studio-button small", "aria-label": `Approve ${name}` }, "Approve");
        approve.addEventListener("click", () => void this.setStatus(target, "approved"));
        const issue = el("button", { type: "button", class: "studio-button small danger", "aria-label": `Raise issue on ${name}` }, "Raise issue");
        issue.addEventListener("click", () => {
          this.issueFormFor = target.key;
          this.render();
          this.body.querySelector("textarea")?.focus();
        });
        actions.append(approve, issue);
        if (target.status) {
          const clear = el("button", { type: "button", class: "studio-button small", "aria-label": `Clear the review status of ${name}` }, "Clear");
          clear.addEventListener("click", () => void this.setStatus(target, null));
          actions.append(clear);
        }
      }
    }
    if (actions.childElementCount) parts.push(actions);
    this.body.replaceChildren(...parts);
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
      this.render();
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
      this.hooks.alert(`Your changes are not saved yet (${this.studio.saveStatus.message}); try again once they are.`);
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
      this.hooks.sentBack();
      this.studio.announce("Note saved; the item goes back to its annotator.");
    } catch (error) {
      this.hooks.alert(`Could not save the note: ${message(error)}`);
    }
    this.signature = "";
    this.render();
  }

  private async reply(note: Annotation, body: string): Promise<void> {
    const id = this.studio.sync.queue.serverCopy(note.key)?.id ?? note.key;
    try {
      const answer = await api<WireAnnotation>(`/annotations/${id}/messages`, { json: { body } });
      this.studio.sync.remote({ updated: [answer] }, true);
      this.studio.announce("Reply sent.");
    } catch (error) {
      this.hooks.alert(`Could not send the reply: ${message(error)}`);
    }
    this.signature = "";
    this.render();
    this.body.querySelector<HTMLTextAreaElement>("#note-reply")?.focus();
  }

  private issueForm(target: Annotation, name: string): HTMLFormElement {
    const id = "issue-message";
    const text = el("textarea", { id, rows: "3", required: "", placeholder: "What is wrong?" });
    const send = el("button", { type: "submit", class: "studio-button small danger" }, "Send issue");
    const cancel = el("button", { type: "button", class: "studio-button small" }, "Cancel");
    const form = el("form", { class: "issue-form", "aria-label": `Issue on ${name}` }, el("label", { for: id }, "Issue message"), text, el("div", { class: "review-actions" }, send, cancel));
    cancel.addEventListener("click", () => {
      this.issueFormFor = null;
      this.render();
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
      this.hooks.alert(`Your changes are not saved yet (${this.studio.saveStatus.message}); try again once they are.`);
      return;
    }
    const id = this.studio.sync.queue.serverCopy(target.key)?.id;
    if (!id) {
      this.hooks.alert("This object is not saved yet; try again in a moment.");
      return;
    }
    try {
      const answer = await api<{ annotation: WireAnnotation; note: WireAnnotation | null }>(`/annotations/${id}/status`, {
        json: note ? { status, message: note } : { status },
      });
      this.studio.sync.remote({ updated: [answer.annotation, ...(answer.note ? [answer.note] : [])] }, true);
      const name = nameOf(this.studio, target);
      if (status === "issue" && this.hooks.reviewing) this.hooks.sentBack(); // nothing left to approve here
      this.studio.announce(status === "issue" ? `Issue raised on ${name}.` : status === "approved" ? `${name} approved.` : status === "review" ? `${name} marked for review.` : `${name}: review status cleared.`);
    } catch (error) {
      this.hooks.alert(`Could not set the review status: ${message(error)}`);
    }
    this.signature = "";
    this.render();
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
