import { describe, expect, it } from "vitest";
import { drawnAsDot, FIRST_CHUNK, MAX_CHUNK, MIN_CHUNK, nextChunk, pickLevel, previewSize } from "./lod";

describe("image levels", () => {
  it("draws the smallest level with a pixel per screen pixel", () => {
    const widths = [256, 2048, 4000];
    expect(pickLevel(widths, 200)).toBe(0);
    expect(pickLevel(widths, 256)).toBe(0);
    expect(pickLevel(widths, 1300)).toBe(1);
    expect(pickLevel(widths, 2049)).toBe(2);
  });

  it("falls back to the largest level when zoomed in past all of them", () => {
    expect(pickLevel([256, 2048], 9000)).toBe(1);
    expect(pickLevel([256], 9000)).toBe(0);
  });

  it("has nothing to pick without levels", () => {
    expect(pickLevel([], 100)).toBe(-1);
  });

  it("makes a preview only of images bigger than it, keeping the aspect ratio", () => {
    expect(previewSize(4000, 3000)).toEqual({ width: 2048, height: 1536 });
    expect(previewSize(3000, 8000)).toEqual({ width: 768, height: 2048 });
    expect(previewSize(2048, 1000)).toBeNull();
    expect(previewSize(640, 480)).toBeNull();
    expect(previewSize(8000, 1, 2048)).toEqual({ width: 2048, height: 1 });
  });
});

describe("shape level of detail", () => {
  it("draws a shape as a dot only when both its sides are under a pixel and a half", () => {
    expect(drawnAsDot(10, 10, 0.1)).toBe(true);
    expect(drawnAsDot(10, 20, 0.1)).toBe(false);
    expect(drawnAsDot(10, 10, 1)).toBe(false);
  });
});

describe("crisp layer slices", () => {
  it("starts with a fixed chunk", () => {
    expect(nextChunk(0, 0)).toBe(FIRST_CHUNK);
  });

  it("sizes the next chunk to the budget at the measured rate", () => {
    // 400 shapes took 16 ms: 0.04 ms each, so 8 ms holds 200.
    expect(nextChunk(400, 16, 8)).toBe(200);
  });

  it("grows at most fourfold when shapes are cheap", () => {
    expect(nextChunk(100, 0.1, 8)).toBe(400);
  });

  it("stays within its bounds", () => {
    expect(nextChunk(100, 1000, 8)).toBe(MIN_CHUNK);
    expect(nextChunk(MAX_CHUNK, 0.01, 8)).toBe(MAX_CHUNK);
  });
});
