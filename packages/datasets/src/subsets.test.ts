import { describe, expect, it } from 'vitest';
import { classBalancedSubset, firstN, selectExamples, validationSplit } from './subsets.js';
import type { ImageSplit } from './types.js';

/** 2x2x1 images whose four pixels all equal the example's index (mod 256); label = index % 4, skewed. */
function makeSplit(count: number): ImageSplit {
  const images = new Uint8Array(count * 4);
  for (let i = 0; i < count; i++) images.fill(i & 0xff, i * 4, i * 4 + 4);
  const labels = Int32Array.from({ length: count }, (_, i) => (i % 7 === 0 ? 3 : i % 4));
  return { images, labels, count, height: 2, width: 2, channels: 1 };
}

describe('subsets and splits', () => {
  const split = makeSplit(200);

  it('selectExamples copies the chosen images and labels in order', () => {
    const picked = selectExamples(split, [5, 0, 199]);
    expect(Array.from(picked.images)).toEqual([5, 5, 5, 5, 0, 0, 0, 0, 199, 199, 199, 199]);
    expect(Array.from(picked.labels)).toEqual([split.labels[5], split.labels[0], split.labels[199]]);
    expect(() => selectExamples(split, [200])).toThrow(/outside 0\.\.199/);
  });

  it('firstN is the first n examples', () => {
    const head = firstN(split, 3);
    expect(head.count).toBe(3);
    expect(Array.from(head.images)).toEqual([0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2]);
  });

  it('classBalancedSubset takes size / C per class (remainder to the lowest classes), seeded, in source order', () => {
    const { split: subset, indices } = classBalancedSubset(split, { size: 42, numClasses: 4, seed: 1 });
    const counts = [0, 0, 0, 0];
    for (const l of subset.labels) counts[l]!++;
    expect(counts).toEqual([11, 11, 10, 10]);
    expect(Array.from(indices)).toEqual([...indices].sort((a, b) => a - b));
    for (let i = 0; i < subset.count; i++) expect(subset.images[i * 4]).toBe(indices[i]! & 0xff);
    expect(classBalancedSubset(split, { size: 42, numClasses: 4, seed: 1 }).indices).toEqual(indices);
    expect(classBalancedSubset(split, { size: 42, numClasses: 4, seed: 2 }).indices).not.toEqual(indices);
    expect(() => classBalancedSubset(split, { size: 200, numClasses: 4, seed: 1 })).toThrow(
      /class 0 has \d+ examples, 50 needed/,
    );
  });

  it('validationSplit holds out a seeded, disjoint set; fractions and counts both work', () => {
    const a = validationSplit(split, { size: 0.1, seed: 4 });
    expect(a.validation.count).toBe(20);
    expect(a.train.count).toBe(180);
    const all = new Set([...a.trainIndices, ...a.validationIndices]);
    expect(all.size).toBe(200);
    for (let i = 0; i < 20; i++) {
      const source = a.validationIndices[i]!;
      expect(a.validation.images[i * 4]).toBe(source & 0xff);
      expect(a.validation.labels[i]).toBe(split.labels[source]);
    }
    expect(validationSplit(split, { size: 20, seed: 4 }).validationIndices).toEqual(a.validationIndices);
    expect(validationSplit(split, { size: 20, seed: 5 }).validationIndices).not.toEqual(a.validationIndices);
    expect(() => validationSplit(split, { size: 200, seed: 0 })).toThrow(/count in 1\.\.199/);
  });
});
