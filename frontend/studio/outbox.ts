/**
 * The outbox: unsaved edits kept in IndexedDB, one record per item, so that a page closed or
 * reloaded during an outage sends them when the studio opens the item again.
 *
 * What is kept is state, as the save queue sends it: for each pending key, the annotation as it
 * is now (null: deleted) and the server copy it was edited from. Restoring makes the same
 * create, update (against the old version, so a change made meanwhile meets the 409 dialog) or
 * delete the closed page would have sent.
 */
import { sameContent, type Annotation } from "./model";
import type { SaveQueue, ServerCopy } from "./savequeue";

export interface OutboxEntry {
  key: string;
  annotation: Annotation | null;
  server: ServerCopy | null;
}

/** A tiny IndexedDB key-value store: one database, one object store. */
export class KeyValueStore {
  private db: Promise<IDBDatabase> | null = null;

  constructor(
    private readonly name = "annotator-studio",
    private readonly storeName = "outbox",
    private readonly factory: () => IDBFactory | undefined = () => globalThis.indexedDB,
  ) {}

  private open(): Promise<IDBDatabase> {
    this.db ??= new Promise((resolve, reject) => {
      const factory = this.factory();
      if (!factory) return reject(new Error("IndexedDB is not available"));
      const request = factory.open(this.name, 1);
      request.onupgradeneeded = () => request.result.createObjectStore(this.storeName);
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    return this.db;
  }

  private async run<T>(mode: IDBTransactionMode, body: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
    const db = await this.open();
    return new Promise<T>((resolve, reject) => {
      const tx = db.transaction(this.storeName, mode);
      const request = body(tx.objectStore(this.storeName));
      // Resolve on commit, not on the request's success: a write is durable only then.
      tx.oncomplete = () => resolve(request.result);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  }

  get<T>(key: string): Promise<T | undefined> {
    return this.run("readonly", (s) => s.get(key) as IDBRequest<T | undefined>);
  }

  async set(key: string, value: unknown): Promise<void> {
    await this.run("readwrite", (s) => s.put(value, key));
  }

  async delete(key: string): Promise<void> {
    await this.run("readwrite", (s) => s.delete(key));
  }
}

/** What the queue has not had acknowledged yet (refused edits are left out: sending them again fails again). */
export function outboxEntries(queue: SaveQueue, current: (key: string) => Annotation | undefined): OutboxEntry[] {
  return queue.pendingKeys().map((key) => ({
    key,
    annotation: structuredClone(current(key) ?? null),
    server: structuredClone(queue.serverCopy(key) ?? null),
  }));
}

/**
 * Put kept entries back after the item's annotations are loaded: the queue diffs against the kept
 * server copies, and the returned changes (to apply as local edits) make the keys dirty.
 * A key that was saved before the page closed is the server id now, as it is in a fresh load.
 */
export function restoreEntries(queue: SaveQueue, entries: OutboxEntry[]): { key: string; after: Annotation | null }[] {
  const changes: { key: string; after: Annotation | null }[] = [];
  for (const entry of entries) {
    const key = entry.server ? entry.server.id : entry.key;
    const after = entry.annotation ? { ...entry.annotation, key } : null;
    if (entry.server) {
      // The page may have saved it and closed before the outbox caught up: the fresh load shows it.
      const loaded = queue.serverCopy(key);
      if (after ? loaded && sameContent(loaded.snapshot, after) : !loaded) continue;
      queue.setServer(key, entry.server.id, entry.server.version, { ...entry.server.snapshot, key });
    }
    changes.push({ key, after });
  }
  return changes;
}

/**
 * Writes one item's outbox, in order and only when it changed; `written` resolves when the
 * latest state is on disk.
 */
export class Outbox {
  private chain: Promise<void> = Promise.resolve();
  private last = new Map<string, string>();

  constructor(private readonly kv: KeyValueStore = new KeyValueStore()) {}

  save(itemId: string, entries: OutboxEntry[]): Promise<void> {
    const text = JSON.stringify(entries);
    if ((this.last.get(itemId) ?? "[]") === text) return this.chain;
    this.last.set(itemId, text);
    this.chain = this.chain
      .then(() => (entries.length ? this.kv.set(itemId, entries) : this.kv.delete(itemId)))
      .catch(() => undefined); // private browsing or a full disk: the page still saves while it is open
    return this.chain;
  }

  async load(itemId: string): Promise<OutboxEntry[]> {
    try {
      const entries = (await this.kv.get<OutboxEntry[]>(itemId)) ?? [];
      this.last.set(itemId, JSON.stringify(entries));
      return entries;
    } catch {
      return [];
    }
  }

  get written(): Promise<void> {
    return this.chain;
  }
}
