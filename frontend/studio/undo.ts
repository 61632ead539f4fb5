/** Undo and redo over the studio's own (local) change sets; remote changes never enter here. */

export class UndoStack<T> {
  private done: T[] = [];
  private undone: T[] = [];

  constructor(private readonly limit = 500) {}

  /** A new local change: it can be undone, and whatever was undone can no longer be redone. */
  push(entry: T): void {
    this.done.push(entry);
    if (this.done.length > this.limit) this.done.shift();
    this.undone = [];
  }

  /** The entry to revert, moved to the redo side; null when there is nothing to undo. */
  undo(): T | null {
    const entry = this.done.pop();
    if (entry === undefined) return null;
    this.undone.push(entry);
    return entry;
  }

  redo(): T | null {
    const entry = this.undone.pop();
    if (entry === undefined) return null;
    this.done.push(entry);
    return entry;
  }

  get canUndo(): boolean {
    return this.done.length > 0;
  }

  get canRedo(): boolean {
    return this.undone.length > 0;
  }

  clear(): void {
    this.done = [];
    this.undone = [];
  }
}
