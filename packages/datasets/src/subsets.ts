import { Rng } from '@fisherlab/core';
import { type ImageSplit, imageSize } from './types.js';

/** A split made of the given examples of `split`, in the given order (pixels copied). */
export function selectExamples(split: ImageSplit, indices: ArrayLike<number>): ImageSplit {
  const size = imageSize(split);
  const images = new Uint8Array(indices.length * size);
  const labels = new Int32Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const source = indices[i]!;
    if (!Number.isInteger(source) || source < 0 || source >= split.count) {
      throw new RangeError(
        `selectExamples: index ${source} at position ${i} is outside 0..${split.count - 1}`,
      );
    }
    images.set(split.images.subarray(source * size, (source + 1) * size), i * size);
    labels[i] = split.labels[source]!;
  }
  return { ...split, images, labels, count: indices.length };
}

/** The first n examples (a view, no copy). */
export function firstN(split: ImageSplit, n: number): ImageSplit {
  if (!Number.isInteger(n) || n < 0 || n > split.count) {
    throw new RangeError(`firstN: n must be an integer in 0..${split.count}, got ${n}`);
  }
  const size = imageSize(split);
  return {
    ...split,
    images: split.images.subarray(0, n * size),
    labels: split.labels.subarray(0, n),
    count: n,
  };
}

/**
 * Indices of a class-balanced subset of `size` examples: floor(size / C) per class, the remainder
 * going one each to the lowest classes. Which examples of a class are taken is decided by a seeded
 * shuffle; the returned indices are in ascending (source) order.
 */
export function classBalancedIndices(
  labels: Int32Array,
  numClasses: number,
  size: number,
  seed: number,
): Int32Array {
  if (!Number.isInteger(size) || size < 0)
    throw new RangeError(`classBalancedIndices: size must be >= 0, got ${size}`);
  const byClass: number[][] = Array.from({ length: numClasses }, () => []);
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i]!;
    if (label < 0 || label >= numClasses) {
      throw new RangeError(`classBalancedIndices: label ${label} at ${i} is outside 0..${numClasses - 1}`);
    }
    byClass[label]!.push(i);
  }
  const base = Math.floor(size / numClasses);
  const remainder = size - base * numClasses;
  const rng = Rng.fromSeed(seed);
  const chosen: number[] = [];
  byClass.forEach((members, c) => {
    const want = base + (c < remainder ? 1 : 0);
    if (members.length < want) {
      throw new RangeError(
        `classBalancedIndices: class ${c} has ${members.length} examples, ${want} needed for a balanced subset of ${size}`,
      );
    }
    rng.shuffle(members);
    chosen.push(...members.slice(0, want));
  });
  return Int32Array.from(chosen).sort();
}

/** A class-balanced subset of `size` examples (see classBalancedIndices). */
export function classBalancedSubset(
  split: ImageSplit,
  options: { size: number; numClasses: number; seed: number },
): { split: ImageSplit; indices: Int32Array } {
  const indices = classBalancedIndices(split.labels, options.numClasses, options.size, options.seed);
  return { split: selectExamples(split, indices), indices };
}

export interface ValidationSplitOptions {
  /** Examples held out: a count (>= 1) or a fraction of the split (0 < f < 1). */
  size: number;
  seed: number;
}

export interface ValidationSplit {
  train: ImageSplit;
  validation: ImageSplit;
  /** Source indices (ascending) of each part. */
  trainIndices: Int32Array;
  validationIndices: Int32Array;
}

/** A seeded random hold-out of `size` examples from a training split; both parts keep source order. */
export function validationSplit(split: ImageSplit, options: ValidationSplitOptions): ValidationSplit {
  const { size, seed } = options;
  const count = size > 0 && size < 1 ? Math.round(size * split.count) : size;
  if (!Number.isInteger(count) || count < 1 || count >= split.count) {
    throw new RangeError(
      `validationSplit: size must be a fraction in (0, 1) or a count in 1..${split.count - 1}, got ${size}`,
    );
  }
  const permutation = Rng.fromSeed(seed).permutation(split.count);
  const validationIndices = permutation.slice(0, count).sort();
  const trainIndices = permutation.slice(count).sort();
  return {
    train: selectExamples(split, trainIndices),
    validation: selectExamples(split, validationIndices),
    trainIndices,
    validationIndices,
  };
}
