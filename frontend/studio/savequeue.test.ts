import { describe, expect, it } from "vitest";
import type { WireAnnotation } from "./adapter";
import type { Annotation } from "./model";
import { SaveQueue } from "./savequeue";

const box = (key: string, x = 0, attributes: Record<string, unknown> = {}): Annotation => ({
  key, type: "box", label: "car", geometry: { kind: "box", x1: x, y1: 0, x2: x + 10, y2: 10, angle: 0 }, attributes, status: null, parentId: null,
});
const wire = (id: string, version: number): WireAnnotation => ({ id, type: "box", label: "car", version });

function world(initial: Annotation[] = []) {
  const store = new Map(initial.map((a) => [a.key, a]));
  return { store, get: (key: string) => store.get(key) };
}

describe("save queue", () => {
  it("sends a new annotation once as a creation and learns its server id", () => {
    const queue = new SaveQueue();
    const { store, get } = world([box("new-1")]);
    queue.markDirty("new-1");
    queue.markDirty("new-1");
    const batch = queue.take(get)!;
    expect(batch.body.create).toHaveLength(1);
    expect(batch.body.create[0]).toMatchObject({ type: "box", label: "car", coordinates: [{ x: 0, y: 0, z: 0 }, { x: 10, y: 10, z: 0 }] });
    expect(queue.take(get)).toBeNull(); // one batch in flight at a time
    queue.settle(batch, { created: [wire("srv1", 1)], updated: [], deleted: [] });
    expect(queue.keyFor("srv1")).toBe("new-1");
    store.set("new-1", box("new-1", 30));
    queue.markDirty("new-1");
    expect(queue.take(get)!.body.update).toEqual([{ id: "srv1", version: 1, coordinates: [{ x: 30, y: 0, z: 0 }, { x: 40, y: 10, z: 0 }] }]);
  });

  it("coalesces many edits into one sparse update with the known version", () => {
    const queue = new SaveQueue();
    const { store, get } = world([box("a", 0, { color: "red", occluded: true })]);
    queue.setServer("a", "a", 4, box("a", 0, { color: "red", occluded: true }));
    for (const x of [1, 2, 3]) {
      store.set("a", box("a", x, { color: "blue" }));
      queue.markDirty("a");
    }
    const batch = queue.take(get)!;
    expect(batch.body.update).toEqual([
      { id: "a", version: 4, coordinates: [{ x: 3, y: 0, z: 0 }, { x: 13, y: 10, z: 0 }], metadata: { system: { attributes: { color: "blue", occluded: null } } } },
    ]);
    queue.settle(batch, { created: [], updated: [wire("a", 5)], deleted: [] });
    expect(queue.serverCopy("a")?.version).toBe(5);
  });

  it("sends nothing for an edit that was undone before saving, and deletes with the version", () => {
    const queue = new SaveQueue();
    const { store, get } = world([box("a")]);
    queue.setServer("a", "a", 2, box("a"));
    queue.markDirty("a"); // changed and changed back
    expect(queue.take(get)).toBeNull();
    store.delete("a");
    queue.markDirty("a");
    const batch = queue.take(get)!;
    expect(batch.body.delete).toEqual([{ id: "a", version: 2 }]);
    queue.settle(batch, { created: [], updated: [], deleted: ["a"] });
    expect(queue.serverCopy("a")).toBeUndefined();
  });

  it("a creation deleted before it was saved is never sent", () => {
    const queue = new SaveQueue();
    const { get } = world();
    queue.markDirty("new-1");
    expect(queue.take(get)).toBeNull();
  });

  it("keeps everything after a failure (offline) and sends it again", () => {
    const queue = new SaveQueue();
    const { get } = world([box("new-1"), box("new-2")]);
    queue.markDirty("new-1");
    queue.markDirty("new-2");
    const batch = queue.take(get)!;
    queue.fail(batch);
    expect(queue.pendingCount).toBe(2);
    expect(queue.take(get)!.body.create).toHaveLength(2);
  });

  it("names the entry an error points at, and holds back a refused one until it is edited", () => {
    const queue = new SaveQueue();
    const { get } = world([box("x"), box("new-1")]);
    queue.setServer("x", "x", 1, box("x", 99));
    queue.markDirty("x");
    queue.markDirty("new-1");
    const batch = queue.take(get)!;
    const entry = queue.entryFor(batch, "create[0].label");
    expect(entry?.key).toBe("new-1");
    expect(queue.entryFor(batch, "update[0].version")?.key).toBe("x");
    queue.reject("new-1", "bad label");
    queue.fail(batch, ["new-1"]);
    expect(queue.isPending("new-1")).toBe(false);
    expect(queue.isPending("x")).toBe(true);
    queue.markDirty("new-1");
    expect(queue.rejected.size).toBe(0);
  });
});
