import { describe, expect, it } from "vitest";
import { pointInRings } from "./geometry";
import type { Pt } from "./model";
import { fillRings } from "./raster";

const rows = (mask: Uint8Array, width: number) => Array.from({ length: mask.length / width }, (_, y) => Array.from(mask.slice(y * width, (y + 1) * width)).join(""));
const square = (x: number, y: number, size: number): Pt[] => [{ x, y }, { x: x + size, y }, { x: x + size, y: y + size }, { x, y: y + size }];

describe("polygon fill", () => {
  it("fills the pixels whose centres are inside", () => {
    expect(rows(fillRings([square(1, 1, 3)], 6, 5), 6)).toEqual(["000000", "011100", "011100", "011100", "000000"]);
  });

  it("leaves a hole where a second ring lies inside the first (even-odd)", () => {
    const mask = fillRings([square(0, 0, 5), square(1, 1, 3)], 5, 5);
    expect(rows(mask, 5)).toEqual(["11111", "10001", "10001", "10001", "11111"]);
  });

  it("leaves the doubly covered centre of a self-crossing star empty", () => {
    const star = Array.from({ length: 5 }, (_, i) => {
      const a = -Math.PI / 2 + (i * 4 * Math.PI) / 5;
      return { x: 50 + 40 * Math.cos(a), y: 50 + 40 * Math.sin(a) };
    });
    const mask = fillRings([star], 100, 100);
    expect(mask[50 * 100 + 50]).toBe(0);
    expect(mask[20 * 100 + 50]).toBe(1); // the top spike
  });

  it("agrees with the hit test on every pixel centre, and clips to the image", () => {
    const ring = [{ x: -10, y: 3.3 }, { x: 37.2, y: -5 }, { x: 45, y: 28.7 }, { x: 20.5, y: 12.1 }, { x: 3.9, y: 31 }];
    const width = 40, height = 30;
    const mask = fillRings([ring], width, height);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) expect(mask[y * width + x], `${x},${y}`).toBe(pointInRings({ x: x + 0.5, y: y + 0.5 }, [ring]) ? 1 : 0);
    }
  });
});
