/**
 * The sync module: the only part of the studio that talks to the annotation API.
 * It saves local change sets in debounced batches (with versions), retries while offline,
 * hands 409s to the conflict dialog, and merges the websocket's remote changes into the store.
 */
import { ApiError } from "../lib/api";
import { annotationFromWire, type WireAnnotation } from "./adapter";
import type { Annotation } from "./model";
import { outboxEntries, restoreEntries, type Outbox, type OutboxEntry } from "./outbox";
import { SaveQueue, type Batch, type BatchBody, type BatchResponse } from "./savequeue";
import type { AnnotationStore, ChangeSet } from "./store";

export type SaveState = "saved" | "saving" | "pending" | "offline" | "error";

export interface SyncStatus {
  state: SaveState;
  pending: number;
  message: string;
}

export type ConflictChoice = "mine" | "theirs";
export type ConflictHandler = (mine: Annotation | null, theirs: Annotation) => Promise<ConflictChoice>;

export interface SyncOptions {
  send: (body: BatchBody) => Promise<BatchResponse>;
  onStatus: (status: SyncStatus) => void;
  onConflict: ConflictHandler;
  debounceMs?: number;
  /** Backoff while the server cannot be reached: first delay, doubling to the cap. */
  retryMs?: number;
  maxRetryMs?: number;
  /** Where unsaved edits are kept across a reload, under the open item's key (user and item). */
  outbox?: Outbox;
  outboxKey?: () => string;
  /** The outbox holds `count` entries on disk now. */
  onPersisted?: (count: number) => void;
}

export interface RemoteChange {
  created?: WireAnnotation[];
  updated?: WireAnnotation[];
  deleted?: string[];
}

/** The label of a remote change set that is the server's answer to this studio's own request. */
export const OWN = "own";

export class Sync {
  queue = new SaveQueue();
  private timer: number | null = null;
  private failures = 0;
  private offline = false;
  private errorMessage = "";
  private conflicts = 0;

  constructor(
    private readonly store: AnnotationStore,
    private readonly options: SyncOptions,
  ) {
    store.subscribe((set) => this.onChange(set));
    window.addEventListener("online", () => this.flushSoon(0));
  }

  /** Forget everything about the open item (another item opens); the caller has flushed. */
  reset(): void {
    if (this.timer !== null) window.clearTimeout(this.timer);
    this.timer = null;
    this.queue = new SaveQueue();
    this.failures = 0;
    this.offline = false;
    this.errorMessage = "";
    this.conflicts = 0;
    this.report();
  }

  /** Save now until nothing is pending; false when saving cannot finish (offline, refused, a conflict,
   * a server error). Used before a task status is set, so the status never outruns the edits. */
  async flushAll(timeoutMs = 20_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.queue.inFlight) {
        await new Promise((resolve) => window.setTimeout(resolve, 40));
        continue;
      }
      if (!this.queue.pendingCount) break;
      if (this.timer !== null) {
        window.clearTimeout(this.timer);
        this.timer = null;
      }
      const before = this.queue.pendingCount;
      await this.flush();
      if (this.offline || this.conflicts || this.queue.rejected.size) break;
      if (this.errorMessage && this.queue.pendingCount >= before) break;
    }
    return !this.queue.pendingCount && !this.queue.inFlight && !this.queue.rejected.size && !this.conflicts;
  }

  /** Edits a closed page kept (outbox.ts): applied as local, not undoable, and saved. */
  restore(entries: OutboxEntry[]): number {
    const changes = restoreEntries(this.queue, entries).map((c) => ({ key: c.key, before: null, after: c.after }));
    if (changes.length) this.store.apply({ source: "local", label: "Restore unsaved edits", changes }, false);
    return changes.length;
  }

  /** Annotations as loaded from the server: the baseline that saves are diffed against. */
  loaded(json: WireAnnotation[]): Annotation[] {
    return json.map((wire) => {
      const annotation = annotationFromWire(wire);
      this.queue.setServer(annotation.key, wire.id, wire.version, structuredClone(annotation));
      return annotation;
    });
  }

  get pending(): number {
    return this.queue.pendingCount;
  }

  /** Save now (the debounce is for typing and dragging, not for leaving). */
  flushSoon(delay = this.options.debounceMs ?? 500): void {
    if (this.timer !== null) window.clearTimeout(this.timer);
    this.timer = window.setTimeout(() => {
      this.timer = null;
      void this.flush();
    }, delay);
  }

  private onChange(set: ChangeSet): void {
    if (set.source !== "local") return;
    for (const change of set.changes) this.queue.markDirty(change.key);
    this.report();
    if (!this.offline) this.flushSoon();
  }

  async flush(): Promise<void> {
    const batch = this.queue.take((key) => this.store.get(key));
    if (!batch) {
      this.report();
      return;
    }
    this.report("saving");
    let response: BatchResponse;
    try {
      response = await this.options.send(batch.body);
    } catch (error) {
      this.failed(batch, error);
      return;
    }
    this.queue.settle(batch, response);
    this.failures = 0;
    this.offline = false;
    this.errorMessage = this.queue.rejected.size ? this.errorMessage : "";
    this.report();
    if (this.queue.pendingCount) this.flushSoon(0);
  }

  private failed(batch: Batch, error: unknown): void {
    const status = error instanceof ApiError ? error.status : 0;
    if (status === 0 || status >= 500 || status === 429) {
      // Unreachable or overloaded: keep everything and try again, backing off.
      this.queue.fail(batch);
      this.offline = status === 0;
      this.errorMessage = status === 0 ? "" : `The server answered ${status}; retrying.`;
      const base = this.options.retryMs ?? 1000;
      const delay = Math.min(this.options.maxRetryMs ?? 15_000, base * 2 ** this.failures++);
      this.report();
      this.flushSoon(delay);
      return;
    }
    const apiError = error as ApiError;
    const details = (apiError.details ?? {}) as { field?: unknown; current?: WireAnnotation };
    const entry = this.queue.entryFor(batch, details.field);
    if (!entry) {
      // Not about one annotation (a 403, say): stop retrying these until they change again.
      for (const e of batch.entries) this.queue.reject(e.key, apiError.message);
      this.queue.fail(batch, batch.entries.map((e) => e.key));
      this.errorMessage = apiError.message;
      this.report();
      return;
    }
    this.queue.fail(batch, [entry.key]);
    if (apiError.status === 409 && details.current) {
      void this.resolveConflict(entry.key, details.current);
    } else if (apiError.status === 404 && entry.op !== "create") {
      // Deleted by someone else meanwhile: a deletion is done; an edit brings it back as new.
      this.queue.forgetServer(entry.key);
      if (entry.op === "update") this.queue.markDirty(entry.key);
    } else {
      this.queue.reject(entry.key, apiError.message);
      this.errorMessage = apiError.message;
    }
    this.report();
    if (this.queue.pendingCount) this.flushSoon(0);
  }

  private async resolveConflict(key: string, current: WireAnnotation): Promise<void> {
    this.conflicts++;
    const theirs = annotationFromWire(current, key);
    const choice = await this.options.onConflict(this.store.get(key) ?? null, theirs);
    this.conflicts--;
    this.queue.setServer(key, current.id, current.version, structuredClone(theirs));
    if (choice === "mine") {
      this.queue.markDirty(key);
    } else {
      this.store.apply({ source: "remote", changes: [{ key, before: null, after: theirs }] });
      this.queue.clean(key);
    }
    this.report();
    this.flushSoon(0);
  }

  /** An `annotations.changed` event from someone else: merged without touching the undo stack.
   * `own`: the server's answer to our own request (a review status), which no event echoes. */
  remote(change: RemoteChange, own = false): void {
    const changes: { key: string; before: null; after: Annotation | null }[] = [];
    for (const wire of [...(change.created ?? []), ...(change.updated ?? [])]) {
      const key = this.queue.keyFor(wire.id) ?? wire.id;
      const copy = this.queue.serverCopy(key);
      if (copy && copy.version >= wire.version) continue; // already have it (our own save)
      // An annotation with unsaved local edits keeps them; saving them will meet the 409 dialog.
      if (this.queue.isPending(key)) continue;
      const annotation = annotationFromWire(wire, key);
      this.queue.setServer(key, wire.id, wire.version, structuredClone(annotation));
      changes.push({ key, before: null, after: annotation });
    }
    for (const id of change.deleted ?? []) {
      const key = this.queue.keyFor(id);
      if (!key || this.queue.isPending(key)) continue;
      this.queue.forgetServer(key);
      changes.push({ key, before: null, after: null });
    }
    if (changes.length) this.store.apply({ source: "remote", changes, label: own ? OWN : undefined });
  }

  private persist(): void {
    const { outbox, outboxKey } = this.options;
    if (!outbox || !outboxKey) return;
    const entries = outboxEntries(this.queue, (key) => this.store.get(key));
    void outbox.save(outboxKey(), entries).then(() => this.options.onPersisted?.(entries.length));
  }

  private report(saving?: "saving"): void {
    this.persist();
    const pending = this.queue.pendingCount;
    let state: SaveState;
    let message: string;
    if (this.offline) {
      state = "offline";
      message = pending ? `Offline: ${pending} unsaved change${pending === 1 ? "" : "s"} will be saved when the connection returns` : "Offline";
    } else if (this.errorMessage && (this.queue.rejected.size || !pending)) {
      state = "error";
      message = `Not saved: ${this.errorMessage}`;
    } else if (saving || this.queue.inFlight) {
      state = "saving";
      message = "Saving…";
    } else if (pending || this.conflicts) {
      state = "pending";
      message = this.conflicts ? "Waiting for your choice" : "Unsaved changes";
    } else {
      state = "saved";
      message = "All changes saved";
    }
    this.options.onStatus({ state, pending, message });
  }
}
