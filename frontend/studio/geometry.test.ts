import { describe, expect, it } from "vitest";
import { boxCorners, clampDelta, dragHandle, geometryBounds, handlesOf, hitGeometry, pointInRings, translateGeometry } from "./geometry";
import type { Geometry } from "./model";
import { Viewport } from "./viewport";

const box: Geometry = { kind: "box", x1: 10, y1: 20, x2: 110, y2: 70, angle: 0 };
const triangle: Geometry = { kind: "segment", rings: [[{ x: 0, y: 0 }, { x: 100, y: 0 }, { x: 0, y: 100 }]] };

describe("geometry", () => {
  it("bounds every drawable type and none for classifications", () => {
    expect(geometryBounds(box)).toEqual({ minX: 10, minY: 20, maxX: 110, maxY: 70 });
    expect(geometryBounds(triangle)).toEqual({ minX: 0, minY: 0, maxX: 100, maxY: 100 });
    expect(geometryBounds({ kind: "ellipse", cx: 50, cy: 50, rx: 20, ry: 10, angle: 90 })).toEqual({ minX: 40, minY: 30, maxX: 60, maxY: 70 });
    expect(geometryBounds({ kind: "binary", mask: { size: [10, 10], counts: "", bbox: [1, 2, 3, 4] } })).toEqual({ minX: 1, minY: 2, maxX: 4, maxY: 5 });
    expect(geometryBounds({ kind: "class" })).toBeNull();
  });

  it("rotates a box about its centre", () => {
    const corners = boxCorners({ kind: "box", x1: 0, y1: 0, x2: 10, y2: 10, angle: 90 });
    expect(corners[0].x).toBeCloseTo(10);
    expect(corners[0].y).toBeCloseTo(0);
  });

  it("fills rings even-odd, so a hole is not inside", () => {
    const outer = [{ x: 0, y: 0 }, { x: 10, y: 0 }, { x: 10, y: 10 }, { x: 0, y: 10 }];
    const hole = [{ x: 3, y: 3 }, { x: 7, y: 3 }, { x: 7, y: 7 }, { x: 3, y: 7 }];
    expect(pointInRings({ x: 1, y: 1 }, [outer, hole])).toBe(true);
    expect(pointInRings({ x: 5, y: 5 }, [outer, hole])).toBe(false);
  });

  it("hits inside, near the outline within tolerance, and not beyond", () => {
    expect(hitGeometry(box, { x: 50, y: 40 }, 2)).toBe(true);
    expect(hitGeometry(box, { x: 111.5, y: 40 }, 2)).toBe(true);
    expect(hitGeometry(box, { x: 115, y: 40 }, 2)).toBe(false);
    expect(hitGeometry(triangle, { x: 80, y: 80 }, 2)).toBe(false);
    const line: Geometry = { kind: "polyline", lines: [[{ x: 0, y: 0 }, { x: 100, y: 0 }]] };
    expect(hitGeometry(line, { x: 50, y: 1 }, 2)).toBe(true);
    expect(hitGeometry(line, { x: 50, y: 20 }, 2)).toBe(false);
    expect(hitGeometry({ kind: "ellipse", cx: 0, cy: 0, rx: 10, ry: 5, angle: 0 }, { x: 0, y: 8 }, 1)).toBe(false);
  });

  it("moves shapes and keeps a move inside the image", () => {
    expect(translateGeometry(box, 5, -5)).toMatchObject({ x1: 15, y1: 15, x2: 115, y2: 65 });
    expect(clampDelta({ minX: 10, minY: 20, maxX: 110, maxY: 70 }, -50, 500, 640, 480)).toEqual({ dx: -10, dy: 410 });
  });

  it("resizes a box from a corner, keeping the opposite corner, even when dragged past it", () => {
    const [topLeft] = handlesOf(box);
    expect(dragHandle(box, topLeft, { x: 200, y: 100 })).toMatchObject({ x1: 110, y1: 70, x2: 200, y2: 100 });
  });

  it("moves one polygon vertex", () => {
    const handles = handlesOf(triangle);
    expect(handles).toHaveLength(3);
    const moved = dragHandle(triangle, handles[1], { x: 50, y: 5 });
    expect(moved.kind === "segment" && moved.rings[0][1]).toEqual({ x: 50, y: 5 });
  });
});

describe("viewport", () => {
  it("zooms at the cursor: the image point under it stays put", () => {
    const vp = new Viewport(1, 10, 20);
    const before = vp.toImage({ x: 300, y: 200 });
    vp.zoomAt({ x: 300, y: 200 }, 2.5);
    const after = vp.toImage({ x: 300, y: 200 });
    expect(after.x).toBeCloseTo(before.x);
    expect(after.y).toBeCloseTo(before.y);
    expect(vp.scale).toBe(2.5);
  });

  it("fits the image centred and shows 1:1", () => {
    const vp = new Viewport();
    vp.fit(640, 480, 1000, 500, 10);
    expect(vp.scale).toBeCloseTo(480 / 480);
    expect(vp.x).toBeCloseTo((1000 - 640) / 2);
    vp.fit(4000, 3000, 1000, 800, 0);
    expect(vp.scale).toBeCloseTo(0.25);
    vp.actualSize(1000, 800);
    expect(vp.scale).toBe(1);
  });
});
