import { describe, expect, it } from "vitest";
import type { Annotation, Geometry } from "./model";
import { hitTest, insideBounds, SpatialIndex } from "./spatial";

const shape = (key: string, geometry: Geometry): Annotation => ({ key, type: geometry.kind, label: "car", geometry, attributes: {}, status: null, parentId: null });

function setup(annotations: Annotation[]) {
  const index = new SpatialIndex();
  index.load(annotations);
  const byKey = new Map(annotations.map((a, i) => [a.key, { a, z: i }]));
  const options = { tolerance: 2, z: (k: string) => byKey.get(k)!.z, get: (k: string) => byKey.get(k)?.a };
  return { index, options };
}

describe("hit-testing through the spatial index", () => {
  const big = shape("big", { kind: "box", x1: 0, y1: 0, x2: 200, y2: 200, angle: 0 });
  const small = shape("small", { kind: "box", x1: 50, y1: 50, x2: 60, y2: 60, angle: 0 });
  const triangle = shape("tri", { kind: "segment", rings: [[{ x: 300, y: 0 }, { x: 400, y: 0 }, { x: 300, y: 100 }]] });

  it("finds the shape under the point, preferring the smaller of nested shapes", () => {
    const { index, options } = setup([small, big, triangle]);
    expect(hitTest(index, { x: 55, y: 55 }, options)).toBe("small");
    expect(hitTest(index, { x: 150, y: 150 }, options)).toBe("big");
    expect(hitTest(index, { x: 310, y: 10 }, options)).toBe("tri");
    // Inside the triangle's bounds but outside the triangle.
    expect(hitTest(index, { x: 390, y: 90 }, options)).toBeNull();
  });

  it("skips hidden shapes and follows updates and removals", () => {
    const { index, options } = setup([small, big]);
    expect(hitTest(index, { x: 55, y: 55 }, { ...options, hidden: (k) => k === "small" })).toBe("big");
    index.upsert({ ...small, geometry: { kind: "box", x1: 500, y1: 500, x2: 510, y2: 510, angle: 0 } });
    expect(hitTest(index, { x: 55, y: 55 }, options)).toBe("big");
    index.remove("big");
    expect(hitTest(index, { x: 55, y: 55 }, options)).toBeNull();
    expect(index.size).toBe(1);
  });

  it("selects what lies wholly inside a marquee", () => {
    const { index, options } = setup([small, big, triangle]);
    expect(insideBounds(index, { minX: 40, minY: 40, maxX: 70, maxY: 70 }, options.get)).toEqual(["small"]);
  });

  it("hit-tests among 10,000 polygons in well under a millisecond", () => {
    const many: Annotation[] = [];
    for (let i = 0; i < 10_000; i++) {
      const x = (i % 100) * 40, y = Math.floor(i / 100) * 30;
      many.push(shape(`s${i}`, { kind: "segment", rings: [[{ x, y }, { x: x + 20, y }, { x: x + 30, y: y + 10 }, { x: x + 25, y: y + 20 }, { x: x + 10, y: y + 25 }, { x, y: y + 15 }, { x: x - 5, y: y + 8 }, { x: x + 2, y: y + 2 }]] }));
    }
    const { index, options } = setup(many);
    const started = performance.now();
    const rounds = 1000;
    for (let i = 0; i < rounds; i++) hitTest(index, { x: (i * 37) % 4000, y: (i * 53) % 3000 }, options);
    const perClick = (performance.now() - started) / rounds;
    expect(hitTest(index, { x: 410, y: 35 }, options)).toBe("s110");
    expect(perClick).toBeLessThan(1);
  });
});
