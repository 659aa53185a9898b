import { InputError } from '@fisherlab/core';
import { describe, expect, it } from 'vitest';
import { BatchIterator } from './batches.js';
import { classBalancedSubset, validationSplit } from './subsets.js';
import type { ImageSplit } from './types.js';

/** 8x8x1 images: pixel (y, x) = 1 + 8y + x + i (mod 256, never 0 for i < 190), label i % 3. */
function makeSplit(count: number): ImageSplit {
  const images = new Uint8Array(count * 64);
  for (let i = 0; i < count; i++) for (let p = 0; p < 64; p++) images[i * 64 + p] = (1 + p + i) % 256;
  return {
    images,
    labels: Int32Array.from({ length: count }, (_, i) => i % 3),
    count,
    height: 8,
    width: 8,
    channels: 1,
  };
}

const collect = (it: BatchIterator, n: number) => Array.from({ length: n }, () => it.next());

describe('BatchIterator', () => {
  const split = makeSplit(10);

  it('serves every example once per epoch, labels and pixels matching the indices', () => {
    const it = new BatchIterator(split, { batchSize: 4, seed: 1 });
    expect(it.batchesPerEpoch).toBe(3);
    const batches = [...it.epoch()];
    expect(batches.map((b) => b.shape[0])).toEqual([4, 4, 2]);
    expect(batches[0]!.shape).toEqual([4, 8, 8, 1]);
    const seen = batches.flatMap((b) => Array.from(b.indices));
    expect([...seen].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    for (const b of batches) {
      b.indices.forEach((source, k) => {
        expect(b.labels[k]).toBe(source % 3);
        expect(b.images[k * 64 + 9]).toBeCloseTo((1 + 9 + source) / 255, 6);
      });
    }
    expect(it.position).toEqual({ epoch: 1, index: 0 });
  });

  it('shuffles per epoch, seeded: same seed same order, next epoch another order; shuffle off keeps order', () => {
    const order = (seed: number, epochs: number) =>
      collect(new BatchIterator(split, { batchSize: 10, seed }), epochs).map((b) => Array.from(b.indices));
    const [e0, e1] = order(5, 2);
    expect(order(5, 2)).toEqual([e0, e1]);
    expect(e0).not.toEqual(e1);
    expect(order(6, 1)[0]).not.toEqual(e0);
    const plain = new BatchIterator(split, { batchSize: 10, seed: 5, shuffle: false }).next();
    expect(Array.from(plain.indices)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('resumes from a saved position with exactly the batches it would have served (augmentation included)', () => {
    const options = { batchSize: 3, seed: 9, augment: true, normalize: { mean: [0.3], std: [0.2] } };
    const straight = collect(new BatchIterator(split, options), 12);
    const first = new BatchIterator(split, options);
    collect(first, 5);
    const saved = JSON.parse(JSON.stringify(first.position));
    expect(saved).toEqual({ epoch: 1, index: 3 });
    const resumed = collect(new BatchIterator(split, { ...options, position: saved }), 7);
    resumed.forEach((b, k) => {
      const want = straight[5 + k]!;
      expect(b.position).toEqual(want.position);
      expect(b.indices).toEqual(want.indices);
      expect(b.labels).toEqual(want.labels);
      expect(b.images).toEqual(want.images);
    });
  });

  it('next(into) fills a reused buffer with the same values next() allocates', () => {
    const options = { batchSize: 4, seed: 3, augment: true };
    const fresh = collect(new BatchIterator(split, options), 4);
    const reusing = new BatchIterator(split, options);
    const buffer = new Float32Array(4 * 64);
    for (const want of fresh) {
      const got = reusing.next(buffer);
      expect(got.images.buffer).toBe(buffer.buffer);
      expect(got.images).toEqual(want.images);
      expect(got.indices).toEqual(want.indices);
    }
    expect(() => reusing.next(new Float32Array(10))).toThrow(/at least 256 values/);
  });

  it('dropLast skips the short last batch of each epoch', () => {
    const it = new BatchIterator(split, { batchSize: 4, seed: 1, dropLast: true });
    expect(it.batchesPerEpoch).toBe(2);
    const sizes = collect(it, 4).map((b) => [b.position.epoch, b.shape[0]]);
    expect(sizes).toEqual([
      [0, 4],
      [0, 4],
      [1, 4],
      [1, 4],
    ]);
    expect(() => new BatchIterator(split, { batchSize: 11, seed: 1, dropLast: true })).toThrow(
      /every batch would be dropped/,
    );
  });

  it('augmentation is off by default; on, each output is one of the 9 x 9 x 2 crops/flips, about uniformly', () => {
    const big = makeSplit(1);
    const plain = new BatchIterator(big, { batchSize: 1, seed: 2 }).next();
    expect(plain.images).toEqual(Float32Array.from(big.images, (v) => v / 255));

    const it = new BatchIterator(big, { batchSize: 1, seed: 2, augment: true });
    const dxCounts = new Array<number>(9).fill(0);
    let flips = 0;
    const n = 1800;
    for (let t = 0; t < n; t++) {
      const out = it.next().images;
      // Recover the crop: the first in-image pixel tells its source column and row (pixel = 1 + 8y + x).
      let found = false;
      for (let dy = 0; dy <= 8 && !found; dy++) {
        for (let dx = 0; dx <= 8 && !found; dx++) {
          for (const flip of [false, true]) {
            let match = true;
            for (let y = 0; y < 8 && match; y++) {
              for (let x = 0; x < 8 && match; x++) {
                const sy = y + dy - 4;
                const sx = (flip ? 7 - x : x) + dx - 4;
                const v = sy < 0 || sy > 7 || sx < 0 || sx > 7 ? 0 : 1 + 8 * sy + sx;
                match = Math.abs(out[y * 8 + x]! - v / 255) < 1e-7;
              }
            }
            if (match) {
              dxCounts[dx]!++;
              if (flip) flips++;
              found = true;
              break;
            }
          }
        }
      }
      expect(found).toBe(true);
    }
    expect(Math.abs(flips - n / 2)).toBeLessThan(130);
    for (const k of dxCounts) expect(Math.abs(k - n / 9)).toBeLessThan(70);
  });

  it('refuses bad options and positions with the expected and found values', () => {
    expect(() => new BatchIterator(split, { batchSize: 0, seed: 1 })).toThrow(
      /batchSize: expected an integer >= 1, found 0/,
    );
    expect(
      () => new BatchIterator(split, { batchSize: 2, seed: 1, position: { epoch: 0, index: 11 } }),
    ).toThrow(/position\.index: expected 0\.\.10/);
  });

  it('takes what classBalancedSubset returns (its .split), and refuses an object that is not a split', () => {
    const subset = classBalancedSubset(makeSplit(30), { size: 9, numClasses: 3, seed: 2 });
    const batches = [...new BatchIterator(subset, { batchSize: 4, seed: 1 }).epoch()];
    expect(batches.map((b) => b.shape)).toEqual([
      [4, 8, 8, 1],
      [4, 8, 8, 1],
      [1, 8, 8, 1],
    ]);
    const held = validationSplit(makeSplit(30), { size: 6, seed: 1 });
    expect(() => new BatchIterator(held as unknown as ImageSplit, { batchSize: 4, seed: 1 })).toThrow(
      /BatchIterator: split: expected an ImageSplit .*found an object with keys train, validation, trainIndices, validationIndices\. Fix: .*\.split/,
    );
    const broken = { ...makeSplit(5), count: 6 };
    expect(() => new BatchIterator(broken, { batchSize: 4, seed: 1 })).toThrow(InputError);
  });
});
