/**
 * What to send, and what the server holds. Pure: the sync module owns the timers and the network.
 *
 * Saving is by state, not by replaying edits: for each annotation touched since the last save
 * the queue compares the store with the last version the server acknowledged, and sends one
 * create, update (a sparse diff with that version) or delete. Ten drags of one box make one update.
 */
import { annotationToWire, type WireAnnotation, type WireWrite } from "./adapter";
import { sameContent, type Annotation } from "./model";

export interface ServerCopy {
  id: string;
  version: number;
  /** The content the server holds, to diff against. */
  snapshot: Annotation;
}

export type Op = "create" | "update" | "delete";

export interface BatchEntry {
  key: string;
  op: Op;
  index: number;
  snapshot: Annotation | null;
}

export interface BatchBody {
  create: WireWrite[];
  update: Record<string, unknown>[];
  delete: { id: string; version: number }[];
}

export interface Batch {
  body: BatchBody;
  entries: BatchEntry[];
}

export interface BatchResponse {
  created: WireAnnotation[];
  updated: WireAnnotation[];
  deleted: string[];
}

export class SaveQueue {
  private readonly server = new Map<string, ServerCopy>();
  private readonly keyById = new Map<string, string>();
  private readonly dirty = new Set<string>();
  /** Keys the server refused (a 400), with its message; not sent again until edited again. */
  readonly rejected = new Map<string, string>();
  inFlight: Batch | null = null;

  /** The server holds `snapshot` for `key` at `version` (a load, a remote change, a resolved conflict). */
  setServer(key: string, id: string, version: number, snapshot: Annotation): void {
    this.server.set(key, { id, version, snapshot });
    this.keyById.set(id, key);
  }

  forgetServer(key: string): void {
    const copy = this.server.get(key);
    if (copy) this.keyById.delete(copy.id);
    this.server.delete(key);
  }

  serverCopy(key: string): ServerCopy | undefined {
    return this.server.get(key);
  }

  keyFor(id: string): string | undefined {
    return this.keyById.get(id);
  }

  markDirty(key: string): void {
    this.dirty.add(key);
    this.rejected.delete(key);
  }

  clean(key: string): void {
    this.dirty.delete(key);
  }

  isPending(key: string): boolean {
    return this.dirty.has(key) || (this.inFlight?.entries.some((e) => e.key === key) ?? false);
  }

  /** Keys not yet acknowledged by the server: dirty or in flight (not the refused ones). */
  pendingKeys(): string[] {
    const keys = new Set(this.dirty);
    for (const entry of this.inFlight?.entries ?? []) keys.add(entry.key);
    return [...keys];
  }

  get pendingCount(): number {
    return this.dirty.size + (this.inFlight?.entries.length ?? 0);
  }

  /** The next batch, taken out of the dirty set; null when nothing differs from the server. */
  take(current: (key: string) => Annotation | undefined, limit = 500): Batch | null {
    if (this.inFlight) return null;
    const body: BatchBody = { create: [], update: [], delete: [] };
    const entries: BatchEntry[] = [];
    for (const key of [...this.dirty]) {
      if (entries.length >= limit) break;
      this.dirty.delete(key);
      const annotation = current(key);
      const copy = this.server.get(key);
      if (!copy && annotation) {
        entries.push({ key, op: "create", index: body.create.length, snapshot: structuredClone(annotation) });
        body.create.push(annotationToWire(annotation));
      } else if (copy && !annotation) {
        entries.push({ key, op: "delete", index: body.delete.length, snapshot: null });
        body.delete.push({ id: copy.id, version: copy.version });
      } else if (copy && annotation && !sameContent(copy.snapshot, annotation)) {
        entries.push({ key, op: "update", index: body.update.length, snapshot: structuredClone(annotation) });
        body.update.push(updateDiff(copy, annotation));
      }
    }
    if (!entries.length) return null;
    this.inFlight = { body, entries };
    return this.inFlight;
  }

  /** The server applied the batch. Created annotations get their ids, updated ones their versions. */
  settle(batch: Batch, response: BatchResponse): void {
    const updated = new Map(response.updated.map((a) => [a.id, a]));
    for (const entry of batch.entries) {
      if (entry.op === "create") {
        const created = response.created[entry.index];
        if (created) this.setServer(entry.key, created.id, created.version, entry.snapshot!);
      } else if (entry.op === "update") {
        const copy = this.server.get(entry.key)!;
        const fresh = updated.get(copy.id);
        this.setServer(entry.key, copy.id, fresh ? fresh.version : copy.version, entry.snapshot!);
      } else {
        this.forgetServer(entry.key);
      }
    }
    this.inFlight = null;
  }

  /** Nothing was applied (network down, or an error in one entry); try every entry again later. */
  fail(batch: Batch, except: string[] = []): void {
    for (const entry of batch.entries) if (!except.includes(entry.key)) this.dirty.add(entry.key);
    this.inFlight = null;
  }

  /** The batch entry an error's `details.field` (e.g. "update[2].version") names. */
  entryFor(batch: Batch, field: unknown): BatchEntry | undefined {
    const match = typeof field === "string" ? /^(create|update|delete)\[(\d+)\]/.exec(field) : null;
    if (!match) return undefined;
    return batch.entries.find((e) => e.op === match[1] && e.index === Number(match[2]));
  }

  reject(key: string, message: string): void {
    this.rejected.set(key, message);
  }
}

/** The sparse diff of an update: only what changed, with the version it was made against. */
export function updateDiff(copy: ServerCopy, annotation: Annotation): Record<string, unknown> {
  const before = copy.snapshot;
  const diff: Record<string, unknown> = { id: copy.id, version: copy.version };
  if (annotation.label !== before.label) diff.label = annotation.label;
  const wire = annotationToWire(annotation);
  if (JSON.stringify(annotation.geometry) !== JSON.stringify(before.geometry)) diff.coordinates = wire.coordinates;
  if (JSON.stringify(annotation.attributes) !== JSON.stringify(before.attributes)) {
    const attributes: Record<string, unknown> = { ...annotation.attributes };
    for (const key of Object.keys(before.attributes)) if (!(key in attributes)) attributes[key] = null; // null deletes in a deep merge
    diff.metadata = { system: { attributes } };
  }
  return diff;
}
