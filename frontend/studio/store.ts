/**
 * The one annotation store. Every change is a change set tagged `local` (made here, undoable,
 * to be saved) or `remote` (from the server: merged without touching the undo stack and never
 * sent back). Listeners see every applied change set.
 */
import { cloneAnnotation, type Annotation } from "./model";
import { UndoStack } from "./undo";

export type Source = "local" | "remote";

/** One annotation's change: before and after; null means absent (a creation or a deletion). */
export interface Change {
  key: string;
  before: Annotation | null;
  after: Annotation | null;
}

export interface ChangeSet {
  source: Source;
  changes: Change[];
  /** Why, for the undo history ("Draw box"). */
  label?: string;
  /** A change of stacking order (keys bottom first), undone like any other change. The server
   * keeps no order, so this is the studio's own: saving ignores it. */
  order?: { before: string[]; after: string[] };
}

export type StoreListener = (set: ChangeSet) => void;

export class AnnotationStore {
  private readonly byKey = new Map<string, Annotation>();
  /** Keys in z-order, bottom first. */
  private order: string[] = [];
  private readonly listeners = new Set<StoreListener>();
  readonly history = new UndoStack<ChangeSet>();

  get size(): number {
    return this.byKey.size;
  }

  get(key: string): Annotation | undefined {
    return this.byKey.get(key);
  }

  has(key: string): boolean {
    return this.byKey.has(key);
  }

  /** All annotations, bottom first. */
  all(): Annotation[] {
    return this.order.map((key) => this.byKey.get(key)!);
  }

  keys(): string[] {
    return [...this.order];
  }

  subscribe(listener: StoreListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Replace everything (the first load); not undoable, announced as remote. */
  load(annotations: Annotation[]): void {
    const changes: Change[] = [];
    for (const annotation of annotations) {
      changes.push({ key: annotation.key, before: this.byKey.get(annotation.key) ?? null, after: annotation });
    }
    this.applyRaw(changes);
    this.emit({ source: "remote", changes });
  }

  /** Empty the store and its history (another item opens); announced as remote deletions. */
  clear(): void {
    const changes: Change[] = this.order.map((key) => ({ key, before: this.byKey.get(key)!, after: null }));
    this.byKey.clear();
    this.order = [];
    this.history.clear();
    if (changes.length) this.emit({ source: "remote", changes });
  }

  /** Apply a change set. Local ones go on the undo stack unless `undoable` is false. */
  apply(set: ChangeSet, undoable = true): void {
    const changes = set.changes.map((c) => ({
      key: c.key,
      before: this.byKey.has(c.key) ? cloneAnnotation(this.byKey.get(c.key)!) : null,
      after: c.after ? cloneAnnotation(c.after) : null,
    }));
    const applied = { ...set, changes };
    this.applyRaw(changes);
    if (set.order) this.setOrder(set.order.after);
    if (set.source === "local" && undoable) this.history.push(applied);
    this.emit(applied);
  }

  /** Local helpers that build the change set for the common edits. */
  create(annotation: Annotation, label = `Draw ${annotation.type}`): void {
    this.apply({ source: "local", label, changes: [{ key: annotation.key, before: null, after: annotation }] });
  }

  update(annotation: Annotation, label = "Edit"): void {
    this.apply({ source: "local", label, changes: [{ key: annotation.key, before: this.get(annotation.key) ?? null, after: annotation }] });
  }

  remove(keys: string[], label = "Delete"): void {
    const changes = keys.filter((k) => this.byKey.has(k)).map((key) => ({ key, before: this.byKey.get(key)!, after: null }));
    if (changes.length) this.apply({ source: "local", label, changes });
  }

  /** Move `keys` one place up (1) or down (-1) the stack, as one undoable change; false when none can move. */
  reorder(keys: string[], step: 1 | -1, label = step > 0 ? "Bring forward" : "Send backward"): boolean {
    const moving = new Set(keys.filter((k) => this.byKey.has(k)));
    const after = [...this.order];
    // Walk against the direction of travel, so that neighbours in the selection move together.
    const indices = after.map((_, i) => i);
    if (step > 0) indices.reverse();
    let moved = false;
    for (const i of indices) {
      const j = i + step;
      if (!moving.has(after[i]) || j < 0 || j >= after.length || moving.has(after[j])) continue;
      [after[i], after[j]] = [after[j], after[i]];
      moved = true;
    }
    if (!moved) return false;
    this.apply({ source: "local", label, changes: [], order: { before: [...this.order], after } });
    return true;
  }

  undo(): ChangeSet | null {
    const entry = this.history.undo();
    if (!entry) return null;
    const inverse: ChangeSet = {
      source: "local",
      label: entry.label,
      changes: [...entry.changes].reverse().map((c) => ({ key: c.key, before: c.after, after: c.before })),
      order: entry.order && { before: entry.order.after, after: entry.order.before },
    };
    this.apply(inverse, false);
    return inverse;
  }

  redo(): ChangeSet | null {
    const entry = this.history.redo();
    if (!entry) return null;
    this.apply({ ...entry, changes: entry.changes }, false);
    return entry;
  }

  private applyRaw(changes: Change[]): void {
    let removed = false;
    for (const change of changes) {
      if (change.after) {
        if (!this.byKey.has(change.key)) this.order.push(change.key);
        this.byKey.set(change.key, change.after);
      } else if (this.byKey.delete(change.key)) {
        removed = true;
      }
    }
    if (removed) this.order = this.order.filter((key) => this.byKey.has(key));
  }

  /** Take `keys` as the order; keys no longer present are skipped, keys it lacks keep their place on top. */
  private setOrder(keys: string[]): void {
    const known = new Set(keys);
    this.order = [...keys.filter((k) => this.byKey.has(k)), ...this.order.filter((k) => !known.has(k))];
  }

  private emit(set: ChangeSet): void {
    for (const listener of this.listeners) listener(set);
  }
}
