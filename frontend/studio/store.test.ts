import { describe, expect, it } from "vitest";
import type { Annotation } from "./model";
import { AnnotationStore, type ChangeSet } from "./store";
import { UndoStack } from "./undo";

const box = (key: string, x = 0): Annotation => ({ key, type: "box", label: "car", geometry: { kind: "box", x1: x, y1: 0, x2: x + 10, y2: 10, angle: 0 }, attributes: {}, status: null, parentId: null });

describe("undo stack", () => {
  it("undoes and redoes in order, and a new entry clears the redo side", () => {
    const stack = new UndoStack<number>();
    stack.push(1);
    stack.push(2);
    expect(stack.undo()).toBe(2);
    expect(stack.canRedo).toBe(true);
    expect(stack.redo()).toBe(2);
    expect(stack.undo()).toBe(2);
    stack.push(3);
    expect(stack.canRedo).toBe(false);
    expect(stack.undo()).toBe(3);
    expect(stack.undo()).toBe(1);
    expect(stack.undo()).toBeNull();
  });

  it("forgets the oldest entries beyond its limit", () => {
    const stack = new UndoStack<number>(2);
    [1, 2, 3].forEach((n) => stack.push(n));
    expect([stack.undo(), stack.undo(), stack.undo()]).toEqual([3, 2, null]);
  });
});

describe("annotation store", () => {
  it("undoes and redoes local changes, creation, edit and deletion", () => {
    const store = new AnnotationStore();
    store.create(box("a"));
    store.update({ ...box("a", 50) });
    store.remove(["a"]);
    expect(store.size).toBe(0);
    store.undo();
    expect(store.get("a")?.geometry).toMatchObject({ x1: 50 });
    store.undo();
    expect(store.get("a")?.geometry).toMatchObject({ x1: 0 });
    store.undo();
    expect(store.has("a")).toBe(false);
    store.redo();
    store.redo();
    expect(store.get("a")?.geometry).toMatchObject({ x1: 50 });
  });

  it("merges remote changes without touching the undo stack", () => {
    const store = new AnnotationStore();
    const seen: ChangeSet[] = [];
    store.subscribe((set) => seen.push(set));
    store.create(box("mine"));
    store.apply({ source: "remote", changes: [{ key: "theirs", before: null, after: box("theirs", 100) }] });
    expect(store.keys()).toEqual(["mine", "theirs"]);
    store.undo();
    expect(store.keys()).toEqual(["theirs"]);
    expect(store.history.canUndo).toBe(false);
    expect(seen.map((s) => s.source)).toEqual(["local", "remote", "local"]);
  });

  it("keeps its own copies, so later edits to an object do not rewrite history", () => {
    const store = new AnnotationStore();
    const a = box("a");
    store.create(a);
    a.label = "changed outside";
    expect(store.get("a")?.label).toBe("car");
  });
});

describe("clearing the store (another item opens)", () => {
  it("announces every annotation as a remote deletion and forgets the history", () => {
    const store = new AnnotationStore();
    store.load([box("a")]);
    store.create(box("b", 20));
    const seen: ChangeSet[] = [];
    store.subscribe((set) => seen.push(set));
    store.clear();
    expect(store.size).toBe(0);
    expect(store.keys()).toEqual([]);
    expect(store.history.canUndo).toBe(false);
    expect(seen).toHaveLength(1);
    expect(seen[0].source).toBe("remote");
    expect(seen[0].changes.map((c) => [c.key, c.after])).toEqual([["a", null], ["b", null]]);
    store.clear();
    expect(seen).toHaveLength(1); // nothing left: no empty change set
  });
});

describe("stacking order", () => {
  it("moves the selection one place up or down as one undoable change that saving ignores", () => {
    const store = new AnnotationStore();
    store.load(["a", "b", "c", "d"].map((k) => box(k)));
    const seen: ChangeSet[] = [];
    store.subscribe((set) => seen.push(set));
    expect(store.reorder(["a", "b"], 1)).toBe(true);
    expect(store.keys()).toEqual(["c", "a", "b", "d"]);
    expect(seen[0].changes).toEqual([]); // nothing for the save queue
    expect(store.reorder(["d"], 1)).toBe(false); // already on top
    expect(store.reorder(["d"], -1)).toBe(true);
    expect(store.keys()).toEqual(["c", "a", "d", "b"]);
    store.undo();
    expect(store.keys()).toEqual(["c", "a", "b", "d"]);
    store.undo();
    expect(store.keys()).toEqual(["a", "b", "c", "d"]);
    store.redo();
    expect(store.keys()).toEqual(["c", "a", "b", "d"]);
  });
});
