import { IDBFactory } from "fake-indexeddb";
import { describe, expect, it } from "vitest";
import type { Annotation } from "./model";
import { KeyValueStore, Outbox, outboxEntries, restoreEntries } from "./outbox";
import { SaveQueue } from "./savequeue";

const box = (key: string, x = 0): Annotation => ({
  key, type: "box", label: "car", geometry: { kind: "box", x1: x, y1: 0, x2: x + 10, y2: 10, angle: 0 }, attributes: {}, status: null, parentId: null,
});

describe("outbox", () => {
  it("keeps values in IndexedDB and deletes them", async () => {
    const kv = new KeyValueStore("test", "outbox", () => new IDBFactory());
    await kv.set("item1", [{ a: 1 }]);
    expect(await kv.get("item1")).toEqual([{ a: 1 }]);
    await kv.delete("item1");
    expect(await kv.get("item1")).toBeUndefined();
  });

  it("brings back offline edits after a reload as the same create, update and delete", async () => {
    const factory = new IDBFactory(); // one "browser profile" shared by both pages
    // Page one: loaded two annotations (version 3 and 7), then, offline, drew one, moved one, deleted one.
    const queue = new SaveQueue();
    queue.setServer("srvA", "srvA", 3, box("srvA", 0));
    queue.setServer("srvB", "srvB", 7, box("srvB", 50));
    const now = new Map([["srvA", box("srvA", 20)], ["new-1", box("new-1", 100)]]);
    for (const key of ["srvA", "srvB", "new-1"]) queue.markDirty(key);
    const first = new Outbox(new KeyValueStore("studio", "outbox", () => factory));
    await first.save("item1", outboxEntries(queue, (k) => now.get(k)));

    // Page two: a fresh load from the server, then the kept entries.
    const second = new Outbox(new KeyValueStore("studio", "outbox", () => factory));
    const kept = await second.load("item1");
    expect(kept).toHaveLength(3);
    const fresh = new SaveQueue();
    const store = new Map([["srvA", box("srvA", 0)], ["srvB", box("srvB", 50)]]);
    fresh.setServer("srvA", "srvA", 4, box("srvA", 0)); // someone else saved version 4 meanwhile
    fresh.setServer("srvB", "srvB", 7, box("srvB", 50));
    for (const change of restoreEntries(fresh, kept)) {
      if (change.after) store.set(change.key, change.after);
      else store.delete(change.key);
      fresh.markDirty(change.key);
    }
    const batch = fresh.take((k) => store.get(k))!;
    expect(batch.body.create).toHaveLength(1);
    // Against the version the edit was made on, so a change made meanwhile is a 409, not lost.
    expect(batch.body.update).toEqual([{ id: "srvA", version: 3, coordinates: [{ x: 20, y: 0, z: 0 }, { x: 30, y: 10, z: 0 }] }]);
    expect(batch.body.delete).toEqual([{ id: "srvB", version: 7 }]);

    // Saved: the outbox empties, on disk too.
    fresh.settle(batch, { created: [{ id: "srvC", type: "box", label: "car", version: 1 }], updated: [], deleted: ["srvB"] });
    await second.save("item1", outboxEntries(fresh, (k) => store.get(k)));
    expect(await new Outbox(new KeyValueStore("studio", "outbox", () => factory)).load("item1")).toEqual([]);
  });

  it("maps an annotation saved before the outage to its server id", () => {
    const queue = new SaveQueue();
    queue.setServer("new-9", "srv9", 2, box("new-9", 0));
    queue.markDirty("new-9");
    const entries = outboxEntries(queue, () => box("new-9", 5));
    const fresh = new SaveQueue();
    const [change] = restoreEntries(fresh, entries);
    expect(change.key).toBe("srv9");
    expect(change.after?.key).toBe("srv9");
    expect(fresh.serverCopy("srv9")?.version).toBe(2);
  });

  it("skips what the server already has: a save that landed before the outbox caught up", () => {
    const queue = new SaveQueue();
    queue.setServer("srvA", "srvA", 3, box("srvA", 0));
    queue.setServer("srvB", "srvB", 7, box("srvB", 0));
    for (const key of ["srvA", "srvB"]) queue.markDirty(key);
    const kept = outboxEntries(queue, (k) => (k === "srvA" ? box("srvA", 20) : undefined));
    const fresh = new SaveQueue();
    fresh.setServer("srvA", "srvA", 4, box("srvA", 20)); // the move was saved; srvB's deletion too
    expect(restoreEntries(fresh, kept)).toEqual([]);
    expect(fresh.serverCopy("srvA")?.version).toBe(4);
  });

  it("does not keep edits the server refused", () => {
    const queue = new SaveQueue();
    queue.markDirty("new-1");
    queue.reject("new-1", "invalid");
    queue.clean("new-1");
    expect(outboxEntries(queue, () => box("new-1"))).toEqual([]);
  });
});
