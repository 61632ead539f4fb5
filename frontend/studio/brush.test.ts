import { describe, expect, it } from "vitest";
import { encodeMask } from "./rle";
import { stampDisc } from "./tools/brush";

describe("brush stamps", () => {
  it("paints a disc of the given diameter and reports the runs it set", () => {
    const width = 20, height = 20;
    const data = new Uint8Array(width * height);
    const rows: number[] = [];
    expect(stampDisc(data, width, height, { x: 10, y: 10 }, 6, 1, (y) => rows.push(y))).toBe(true);
    expect(rows).toEqual([7, 8, 9, 10, 11, 12]);
    expect(encodeMask(data, width, height).bbox).toEqual([7, 7, 12, 12]);
    expect(data[10 * width + 10]).toBe(1);
    expect(data[10 * width + 14]).toBe(0);
  });

  it("clips at the image edge and erases", () => {
    const width = 10, height = 10;
    const data = new Uint8Array(width * height);
    stampDisc(data, width, height, { x: 0, y: 0 }, 8, 1);
    expect(encodeMask(data, width, height).bbox).toEqual([0, 0, 3, 3]);
    expect(stampDisc(data, width, height, { x: 0, y: 0 }, 20, 0)).toBe(true);
    expect(encodeMask(data, width, height).bbox).toBeNull();
    expect(stampDisc(data, width, height, { x: 0, y: 0 }, 20, 0)).toBe(false); // nothing left to erase
  });
});
