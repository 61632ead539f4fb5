/**
 * COCO's compressed RLE, as annotator/annotations/masks.py writes it: the mask is read column
 * by column, as run lengths that start with a run of 0s; each run is written in 5-bit groups
 * (ASCII 48 + value, bit 0x20 = more groups follow, sign in bit 0x10 of the last group), and
 * runs after the second are stored as the difference to the run two before.
 */

/** Run lengths of a row-major mask (1 byte per pixel, non-zero = inside), column-major, starting with 0s. */
export function runsOf(mask: Uint8Array, width: number, height: number): number[] {
  const runs: number[] = [];
  let current = 0;
  let length = 0;
  for (let x = 0; x < width; x++) {
    for (let y = 0, i = x; y < height; y++, i += width) {
      const value = mask[i] ? 1 : 0;
      if (value !== current) {
        runs.push(length);
        current = value;
        length = 0;
      }
      length++;
    }
  }
  if (width * height > 0) runs.push(length);
  return runs;
}

export function countsToString(runs: number[]): string {
  let out = "";
  for (let i = 0; i < runs.length; i++) {
    // Deltas can exceed 32 bits for huge masks only in theory; images are capped far below.
    let value = i > 2 ? runs[i] - runs[i - 2] : runs[i];
    let more = true;
    while (more) {
      let chunk = value & 0x1f;
      value >>= 5;
      more = chunk & 0x10 ? value !== -1 : value !== 0;
      if (more) chunk |= 0x20;
      out += String.fromCharCode(chunk + 48);
    }
  }
  return out;
}

export function countsFromString(text: string): number[] {
  const runs: number[] = [];
  let position = 0;
  while (position < text.length) {
    let value = 0, shift = 0, more = true;
    while (more) {
      if (position >= text.length) throw new Error("truncated RLE string");
      const chunk = text.charCodeAt(position) - 48;
      if (chunk < 0 || chunk >= 64) throw new Error("invalid RLE character");
      value |= (chunk & 0x1f) << (5 * shift);
      more = (chunk & 0x20) !== 0;
      position++;
      shift++;
      if (!more && chunk & 0x10 && 5 * shift < 32) value |= -1 << (5 * shift);
    }
    if (runs.length > 2) value += runs[runs.length - 2];
    runs.push(value);
  }
  return runs;
}

export interface EncodedMask {
  size: [number, number];
  counts: string;
  bbox: [number, number, number, number] | null;
}

export function encodeMask(mask: Uint8Array, width: number, height: number): EncodedMask {
  let left = width, top = height, right = -1, bottom = -1;
  for (let y = 0, i = 0; y < height; y++) {
    for (let x = 0; x < width; x++, i++) {
      if (!mask[i]) continue;
      if (x < left) left = x;
      if (x > right) right = x;
      if (y < top) top = y;
      if (y > bottom) bottom = y;
    }
  }
  return {
    size: [height, width],
    counts: countsToString(runsOf(mask, width, height)),
    bbox: right >= 0 ? [left, top, right, bottom] : null,
  };
}

/** A row-major 0/1 mask from COCO RLE; throws when the runs do not cover the mask. */
export function decodeMask(encoded: { size: [number, number]; counts: string }): Uint8Array {
  const [height, width] = encoded.size;
  const runs = countsFromString(encoded.counts);
  const total = height * width;
  const out = new Uint8Array(total);
  let position = 0;
  for (let r = 0; r < runs.length; r++) {
    const run = runs[r];
    if (run < 0 || position + run > total) throw new Error("RLE runs do not cover the mask");
    if (r % 2 === 1) {
      for (let k = position; k < position + run; k++) {
        // k is a column-major index: column k / height, row k % height.
        const x = Math.floor(k / height), y = k - x * height;
        out[y * width + x] = 1;
      }
    }
    position += run;
  }
  if (position !== total) throw new Error("RLE runs do not cover the mask");
  return out;
}
