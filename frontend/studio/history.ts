/**
 * The open item's history (the History button): every saved change to its annotations, newest
 * first, with who made it and when, read a page at a time from
 * GET /items/{id}/annotations/history; with one object selected, that object's alone
 * (GET /annotations/{id}/history), deletions and restores included. An object deleted by anyone,
 * in any earlier session, is restored from here as it was, with its id and the next version
 * (POST /annotations/{id}/restore); undo only reaches one's own changes in this page.
 */
import { api } from "../lib/api";
import type { WireAnnotation } from "./adapter";
import { TYPE_NAMES, type AnnotationType } from "./model";
import { el, message } from "./dom";
import { nameOf } from "./panels";
import type { Studio } from "./studio";

/** What history keeps of an annotation (the server's stored_json). */
interface Stored {
  type: AnnotationType;
  label: string;
  coordinates: unknown;
  metadata?: { system?: { attributes?: Record<string, unknown>; status?: string | null; parentId?: string | null }; user?: unknown };
  description?: string | null;
}

export interface Change {
  id: number;
  annotationId: string;
  action: "created" | "updated" | "deleted" | "restored";
  version: number;
  before: Stored | null;
  after: Stored | null;
  actor: string | null;
  at: string;
}

interface HistoryPage {
  items: Change[];
  hasNextPage: boolean;
}

const PAGE_SIZE = 50;
/** A change of coordinates, in words, where "moved or reshaped" would mislead (a note's thread is in its coordinates). */
const GEOMETRY_CHANGES: Partial<Record<AnnotationType, string>> = { binary: "repainted", note: "thread" };
const VERBS: Record<Change["action"], string> = { created: "created", updated: "changed", deleted: "deleted", restored: "restored" };

/** What an update changed, in words: "moved", "relabelled car → bus", "attributes", "status: issue". */
export function changedParts(before: Stored | null, after: Stored | null): string[] {
  if (!before || !after) return [];
  const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
  const parts: string[] = [];
  if (before.label !== after.label) parts.push(`relabelled ${before.label} → ${after.label}`);
  if (!same(before.coordinates, after.coordinates)) parts.push(GEOMETRY_CHANGES[after.type] ?? "moved or reshaped");
  if (!same(before.metadata?.system?.attributes, after.metadata?.system?.attributes)) parts.push("attributes");
  const status = after.metadata?.system?.status ?? null;
  if ((before.metadata?.system?.status ?? null) !== status) parts.push(status ? `status: ${status}` : "status cleared");
  if (!same(before.description, after.description)) parts.push("description");
  if (!same(before.metadata?.user, after.metadata?.user)) parts.push("user metadata");
  return parts;
}

/** An object as the history names it: "car box"; a note by what it is (its label is free text). */
export function subjectName(stored: Stored | null, labelName: (tag: string) => string): string {
  if (!stored) return "an object";
  if (stored.type === "note") return stored.metadata?.system?.parentId ? "review note" : "note pin";
  return `${labelName(stored.label)} ${TYPE_NAMES[stored.type]?.toLowerCase() ?? stored.type}`;
}

/** The deletions that can be restored: the newest change of each object that is not on the item now. */
export function restorable(changes: Change[], present: (annotationId: string) => boolean): Set<number> {
  const newest = new Map<string, Change>();
  for (const change of changes) if (!newest.has(change.annotationId)) newest.set(change.annotationId, change); // newest first
  const ids = new Set<number>();
  for (const change of newest.values()) if (change.action === "deleted" && !present(change.annotationId)) ids.add(change.id);
  return ids;
}

export class HistoryDialog {
  private readonly dialog = document.getElementById("history-dialog") as HTMLDialogElement;
  private readonly list = document.getElementById("history-list")!;
  private readonly status = document.getElementById("history-status")!;
  private readonly more = document.getElementById("history-more") as HTMLButtonElement;
  private readonly scope = this.dialog.querySelector<HTMLElement>(".history-scope")!;
  private readonly only = document.getElementById("history-only") as HTMLInputElement;
  /** The object whose history "Only …" shows: the one selected when the dialog opened. */
  private focusId: string | null = null;
  private changes: Change[] = [];
  private nextPage = 0;
  private generation = 0;

  constructor(private readonly studio: Studio) {
    document.getElementById("history-button")!.addEventListener("click", () => void this.open());
    this.dialog.querySelector("[data-close]")!.addEventListener("click", () => this.dialog.close());
    this.more.addEventListener("click", () => void this.load());
    this.only.addEventListener("change", () => void this.reload());
  }

  async open(): Promise<void> {
    const { studio } = this;
    const selected = studio.selected.size === 1 ? studio.store.get([...studio.selected][0]) : undefined;
    this.focusId = selected ? (studio.sync.queue.serverCopy(selected.key)?.id ?? null) : null;
    this.scope.hidden = this.focusId === null;
    this.only.checked = this.focusId !== null;
    if (selected && this.focusId) document.getElementById("history-only-label")!.textContent = `Only ${nameOf(studio, selected)}`;
    if (!this.dialog.open) this.dialog.showModal();
    await this.reload();
  }

  /** From the newest change again, in the scope chosen. */
  private async reload(): Promise<void> {
    this.changes = [];
    this.nextPage = 0;
    this.list.replaceChildren();
    await this.load();
  }

  private async load(): Promise<void> {
    const generation = ++this.generation;
    this.more.disabled = true;
    this.status.textContent = "Loading…";
    try {
      const page = this.only.checked && this.focusId ? await this.objectHistory(this.focusId) : await api<HistoryPage>(`/items/${this.studio.itemId}/annotations/history?page=${this.nextPage}&pageSize=${PAGE_SIZE}`);
      if (generation !== this.generation) return;
      this.changes.push(...page.items);
      this.nextPage += 1;
      this.more.hidden = !page.hasNextPage;
      this.status.textContent = this.changes.length ? "" : "No annotation has been saved on this item yet.";
      this.render();
    } catch (error) {
      if (generation === this.generation) this.status.textContent = `Could not load the history: ${message(error)}`;
    } finally {
      this.more.disabled = false;
    }
  }

  /** One object's changes, newest first like the item's (the API gives them oldest first, all at once). */
  private async objectHistory(annotationId: string): Promise<HistoryPage> {
    const changes = await api<Change[]>(`/annotations/${annotationId}/history`);
    return { items: changes.reverse(), hasNextPage: false };
  }

  private render(): void {
    const { studio } = this;
    const present = (id: string) => studio.store.get(studio.sync.queue.keyFor(id) ?? id) !== undefined;
    const canRestore = studio.canEdit ? restorable(this.changes, present) : new Set<number>();
    this.list.replaceChildren(...this.changes.map((change) => this.row(change, canRestore.has(change.id))));
  }

  private row(change: Change, offerRestore: boolean): HTMLLIElement {
    const name = subjectName(change.after ?? change.before, (tag) => this.studio.label(tag)?.name ?? tag);
    const when = new Date(change.at);
    const parts = change.action === "updated" ? changedParts(change.before, change.after) : [];
    const text = `${change.actor ?? "Someone"} ${VERBS[change.action]} ${name}${parts.length ? `: ${parts.join(", ")}` : ""}`;
    const row = el(
      "li",
      { class: `history-row history-${change.action}`, "data-annotation-id": change.annotationId },
      el("time", { datetime: when.toISOString() }, when.toLocaleString([], { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" })),
      el("span", { class: "history-text" }, text),
      el("span", { class: "muted" }, `v${change.version}`),
    );
    if (offerRestore) {
      const restore = el("button", { type: "button", class: "studio-button small", "aria-label": `Restore ${name}` }, "Restore");
      restore.addEventListener("click", () => void this.restore(change, name, restore));
      row.append(restore);
    }
    return row;
  }

  private async restore(change: Change, name: string, button: HTMLButtonElement): Promise<void> {
    button.disabled = true;
    try {
      const restored = await api<WireAnnotation>(`/annotations/${change.annotationId}/restore?maskFormat=rle`, { method: "POST" });
      this.studio.sync.remote({ created: [restored] }, true);
      this.studio.announce(`Restored ${name}.`);
      await this.reload(); // its restore is now the newest change
    } catch (error) {
      button.disabled = false;
      this.status.textContent = `Could not restore ${name}: ${message(error)}`;
    }
  }
}
