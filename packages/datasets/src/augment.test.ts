import { Rng } from '@fisherlab/core';
import { describe, expect, it } from 'vitest';
import { normalizationTable, writeExample } from './augment.js';

/** The textbook version: zero-pad, crop at (dy, dx), flip left-right, then normalize. */
function reference(
  image: Uint8Array,
  h: number,
  w: number,
  c: number,
  dx: number,
  dy: number,
  flip: boolean,
  pad: number,
  mean: number[],
  std: number[],
): Float32Array {
  const H = h + 2 * pad;
  const W = w + 2 * pad;
  const padded = new Uint8Array(H * W * c);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let k = 0; k < c; k++) padded[((y + pad) * W + x + pad) * c + k] = image[(y * w + x) * c + k]!;
    }
  }
  const out = new Float32Array(h * w * c);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const cx = flip ? w - 1 - x : x;
      for (let k = 0; k < c; k++) {
        const v = padded[((y + dy) * W + cx + dx) * c + k]!;
        out[(y * w + x) * c + k] = (v / 255 - mean[k]!) / std[k]!;
      }
    }
  }
  return out;
}

describe('fused crop + flip + normalize', () => {
  it.each([1, 2, 3])(
    'equals pad-crop-flip-normalize done step by step, every offset and flip (5x7, %i channels)',
    (c) => {
      const [h, w, pad] = [5, 7, 4];
      const rng = Rng.fromSeed(c);
      const image = Uint8Array.from({ length: h * w * c }, () => rng.nextInt(256));
      const mean = [0.5, 0.25, 0.1].slice(0, c);
      const std = [0.2, 0.3, 0.4].slice(0, c);
      const table = normalizationTable(c, { mean, std });
      for (let dy = 0; dy <= 2 * pad; dy++) {
        for (let dx = 0; dx <= 2 * pad; dx++) {
          for (const flip of [false, true]) {
            const out = new Float32Array(h * w * c + 3);
            writeExample(image, 0, h, w, c, out, 3, table, { dx, dy, flip, padding: pad });
            expect(out.subarray(3)).toEqual(reference(image, h, w, c, dx, dy, flip, pad, mean, std));
          }
        }
      }
      // No augmentation: a plain conversion.
      const plain = new Float32Array(h * w * c);
      writeExample(image, 0, h, w, c, plain, 0, normalizationTable(c, null), null);
      expect(plain).toEqual(Float32Array.from(image, (v) => v / 255));
    },
  );

  it('refuses a normalization of the wrong length or a zero std', () => {
    expect(() => normalizationTable(3, { mean: [0.5], std: [0.5] })).toThrow(
      /3 value\(s\) \(one per channel\)/,
    );
    expect(() => normalizationTable(1, { mean: [0.5], std: [0] })).toThrow(/std > 0/);
  });
});
