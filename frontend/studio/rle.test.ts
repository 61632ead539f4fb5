import { describe, expect, it } from "vitest";
import rawCases from "./rle-cases.json";
import { countsFromString, countsToString, decodeMask, encodeMask } from "./rle";

// Written by annotator/annotations/masks.py (mask_encode) for the same masks, so the two codecs agree.
type Case = { rows?: string[]; json: { size: [number, number]; counts: string; bbox: number[] | null } };
const cases = rawCases as unknown as Record<string, Case>;

function maskFromRows(rows: string[]): Uint8Array {
  return Uint8Array.from(rows.join(""), (c) => (c === "1" ? 1 : 0));
}

describe("COCO RLE codec", () => {
  for (const [name, raw] of Object.entries(cases)) {
    if (!raw.rows) continue;
    it(`encodes the ${name} mask as the server does`, () => {
      const [height, width] = raw.json.size;
      const encoded = encodeMask(maskFromRows(raw.rows!), width, height);
      expect(encoded.counts).toBe(raw.json.counts);
      expect(encoded.size).toEqual(raw.json.size);
      expect(encoded.bbox).toEqual(raw.json.bbox);
    });
    it(`decodes the server's ${name} mask`, () => {
      expect(decodeMask(raw.json)).toEqual(maskFromRows(raw.rows!));
    });
  }

  it("matches the server on a large mask with long runs and a hole", () => {
    const [height, width] = [300, 400];
    const mask = new Uint8Array(width * height);
    for (let y = 10; y < 290; y++) for (let x = 5; x < 395; x++) mask[y * width + x] = 1;
    for (let y = 100; y < 120; y++) for (let x = 100; x < 300; x++) mask[y * width + x] = 0;
    const expected = cases.large.json;
    expect(encodeMask(mask, width, height).counts).toBe(expected.counts);
    expect(decodeMask(expected)).toEqual(mask);
  });

  it("round-trips run lengths, including negative deltas", () => {
    const runs = [0, 5, 100, 3, 2, 4000, 1, 70000, 12];
    expect(countsFromString(countsToString(runs))).toEqual(runs);
  });

  it("refuses runs that do not cover the mask", () => {
    expect(() => decodeMask({ size: [2, 2], counts: countsToString([1, 1]) })).toThrow(/cover/);
    expect(() => decodeMask({ size: [2, 2], counts: "\u0001" })).toThrow(/invalid/);
  });
});
