import { describe, expect, it } from "vitest";
import { angleTowards, boxCorners, dragHandle, handlesOf, rotationHandle, simplifyPath, withAngle } from "./geometry";
import type { Geometry, Pt } from "./model";

const box = (angle = 0): Extract<Geometry, { kind: "box" }> => ({ kind: "box", x1: 0, y1: 0, x2: 100, y2: 40, angle });
const close = (a: Pt, b: Pt) => {
  expect(a.x).toBeCloseTo(b.x, 6);
  expect(a.y).toBeCloseTo(b.y, 6);
};

describe("box rotation", () => {
  it("puts the handle above the middle of the top edge and turns it with the box", () => {
    close(rotationHandle(box(), 10).handle, { x: 50, y: -10 });
    close(rotationHandle(box(90), 10).handle, { x: 80, y: 20 }); // clockwise on screen: the top edge faces right
  });

  it("reads the angle from where the handle is dragged, in [0, 360) like the server", () => {
    const centre = { x: 50, y: 20 };
    expect(angleTowards(centre, { x: 50, y: -100 })).toBe(0);
    expect(angleTowards(centre, { x: 150, y: 20 })).toBe(90);
    expect(angleTowards(centre, { x: -50, y: 20 })).toBe(270);
    expect(angleTowards(centre, { x: 60, y: -100 }, 15)).toBe(0);
    expect(angleTowards(centre, { x: 100, y: -30 }, 15)).toBe(45);
    expect(withAngle(box(), -15).angle).toBe(345);
    expect(withAngle(box(), 370).angle).toBe(10);
  });

  it("rotates about the centre, keeping the size", () => {
    const corners = boxCorners(withAngle(box(), 90) as Extract<Geometry, { kind: "box" }>);
    close(corners[0], { x: 70, y: -30 });
    close(corners[2], { x: 30, y: 70 });
  });
});

describe("freehand simplification (Ramer-Douglas-Peucker)", () => {
  it("drops points within the tolerance of a straight run and keeps the corners", () => {
    const line = Array.from({ length: 101 }, (_, i) => ({ x: i, y: i % 2 ? 0.5 : 0 }));
    expect(simplifyPath(line, 1)).toEqual([line[0], line[100]]);
    const corner = [...Array.from({ length: 50 }, (_, i) => ({ x: i, y: 0 })), ...Array.from({ length: 51 }, (_, i) => ({ x: 50, y: i }))];
    expect(simplifyPath(corner, 1.5)).toEqual([{ x: 0, y: 0 }, { x: 50, y: 0 }, { x: 50, y: 50 }]);
  });

  it("keeps a closed stroke's shape: a circle of 360 points stays within the tolerance", () => {
    const circle = Array.from({ length: 361 }, (_, i) => ({ x: 100 + 50 * Math.cos((i * Math.PI) / 180), y: 100 + 50 * Math.sin((i * Math.PI) / 180) }));
    const simple = simplifyPath(circle, 1.5);
    expect(simple.length).toBeGreaterThan(8);
    expect(simple.length).toBeLessThan(40);
    expect(simple[0]).toEqual(circle[0]);
    expect(simple[simple.length - 1]).toEqual(circle[360]);
  });

  it("leaves two points or fewer alone", () => {
    expect(simplifyPath([{ x: 0, y: 0 }], 1)).toEqual([{ x: 0, y: 0 }]);
  });
});

describe("resizing a rotated box", () => {
  it("keeps the angle and the opposite corner where they were", () => {
    const g = withAngle(box(), 30) as Extract<Geometry, { kind: "box" }>;
    const handles = handlesOf(g);
    expect(handles).toHaveLength(4);
    const fixed = boxCorners(g)[2];
    const to = { x: handles[0].p.x - 10, y: handles[0].p.y - 5 };
    const resized = dragHandle(g, handles[0], to) as Extract<Geometry, { kind: "box" }>;
    expect(resized.angle).toBe(30);
    close(boxCorners(resized)[2], fixed);
    close(boxCorners(resized)[0], to);
  });
});
