import { deriveSeed, InputError, Rng } from '@fisherlab/core';
import {
  type AugmentOptions,
  type CropFlip,
  type Normalization,
  normalizationTable,
  writeExample,
} from './augment.js';
import { type ImageSplit, imageSize } from './types.js';

/** Where an iterator is: `index` examples of epoch `epoch`'s order have been served. Save it in checkpoints. */
export interface BatchPosition {
  epoch: number;
  index: number;
}

export interface BatchIteratorOptions {
  batchSize: number;
  /** Seeds the per-epoch shuffles and the augmentation. */
  seed: number;
  /** Shuffle each epoch (default true); false serves the split in order (evaluation). */
  shuffle?: boolean;
  /** Skip an epoch's last batch when it would be smaller than batchSize (default false). */
  dropLast?: boolean;
  /** Random crop + flip (default off, as for evaluation); true = padding 4 with flips. */
  augment?: boolean | AugmentOptions;
  /** Per-channel normalization on the [0, 1] scale (default none: pixels / 255). */
  normalize?: Normalization | null;
  /** Resume from a saved position (default { epoch: 0, index: 0 }). */
  position?: BatchPosition;
}

export interface Batch {
  /** n x height x width x channels float32, NHWC: wrap with tf.tensor4d(images, shape). */
  images: Float32Array;
  labels: Int32Array;
  /** Index of each example in the split (to look up e.g. which labels were made noisy). */
  indices: Int32Array;
  shape: [number, number, number, number];
  /** Position at the start of this batch. */
  position: BatchPosition;
}

// Salts that keep the shuffle and augmentation streams of one seed apart.
const SHUFFLE_STREAM = 1;
const AUGMENT_STREAM = 2;

/**
 * Serves mini-batches of a split as float32 NHWC. Every batch is a pure function of (seed, epoch,
 * index, batchSize): epoch e's order is a permutation drawn from deriveSeed(seed, e), and a batch's
 * augmentation from deriveSeed(seed, e, index). So a run resumed from `position` sees exactly the
 * batches it would have seen.
 */
export class BatchIterator {
  readonly batchSize: number;
  private readonly split: ImageSplit;
  private readonly seed: number;
  private readonly shuffle: boolean;
  private readonly dropLast: boolean;
  private readonly augment: Required<AugmentOptions> | null;
  private readonly table: Float32Array;
  private epochNumber: number;
  private index: number;
  private order: Int32Array | null = null;
  private orderEpoch = -1;

  /**
   * `split` is an ImageSplit, or anything that holds one as `.split` (what classBalancedSubset and
   * loaders' `{ split, indices }` results return); a value that is neither is refused.
   */
  constructor(source: ImageSplit | { split: ImageSplit }, options: BatchIteratorOptions) {
    const split = checkedSplit(source);
    const { batchSize, seed } = options;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new RangeError(`batchSize: expected an integer >= 1, found ${batchSize}`);
    }
    if (!Number.isSafeInteger(seed)) throw new RangeError(`seed: expected an integer, found ${seed}`);
    if (split.count === 0) throw new RangeError('BatchIterator: the split has no examples');
    this.split = split;
    this.batchSize = batchSize;
    this.seed = seed;
    this.shuffle = options.shuffle ?? true;
    this.dropLast = options.dropLast ?? false;
    if (this.dropLast && batchSize > split.count) {
      throw new RangeError(
        `batchSize ${batchSize} > ${split.count} examples with dropLast: every batch would be dropped`,
      );
    }
    const augment = options.augment === true ? {} : options.augment || null;
    this.augment = augment ? { padding: augment.padding ?? 4, flip: augment.flip ?? true } : null;
    if (this.augment && (!Number.isInteger(this.augment.padding) || this.augment.padding < 0)) {
      throw new RangeError(`augment.padding: expected an integer >= 0, found ${this.augment.padding}`);
    }
    this.table = normalizationTable(split.channels, options.normalize);
    const start = options.position ?? { epoch: 0, index: 0 };
    if (
      !Number.isInteger(start.epoch) ||
      start.epoch < 0 ||
      !Number.isInteger(start.index) ||
      start.index < 0
    ) {
      throw new RangeError(
        `position: expected { epoch, index } non-negative integers, found ${JSON.stringify(options.position)}`,
      );
    }
    if (start.index > split.count) {
      throw new RangeError(
        `position.index: expected 0..${split.count} (examples in the split), found ${start.index}`,
      );
    }
    this.epochNumber = start.epoch;
    this.index = start.index;
    this.rollOver();
  }

  /** Batches per epoch. */
  get batchesPerEpoch(): number {
    return this.dropLast
      ? Math.floor(this.split.count / this.batchSize)
      : Math.ceil(this.split.count / this.batchSize);
  }

  /** The position of the next batch: store it in a checkpoint and pass it back as `position`. */
  get position(): BatchPosition {
    return { epoch: this.epochNumber, index: this.index };
  }

  /** The order epoch `epoch` visits the split in. */
  epochOrder(epoch: number): Int32Array {
    if (this.orderEpoch !== epoch || this.order === null) {
      const n = this.split.count;
      this.order = this.shuffle
        ? Rng.fromSeed(deriveSeed(this.seed, epoch, SHUFFLE_STREAM)).permutation(n)
        : Int32Array.from({ length: n }, (_, i) => i);
      this.orderEpoch = epoch;
    }
    return this.order;
  }

  /**
   * The next batch; moves on to the next epoch when one ends. With `into`, the images are written
   * into that buffer (a view of it is returned) instead of a new array: allocating a fresh 1.5 MB
   * Float32Array per batch costs more than filling it. Only reuse a buffer when the consumer copies
   * it: tfjs's wasm and native backends copy on tf.tensor(), its cpu backend keeps a reference.
   */
  next(into?: Float32Array): Batch {
    const { split, batchSize } = this;
    const position = this.position;
    const order = this.epochOrder(position.epoch);
    const n = Math.min(batchSize, split.count - position.index);
    const size = imageSize(split);
    if (into && into.length < batchSize * size) {
      throw new RangeError(
        `next(into): expected a Float32Array of at least ${batchSize * size} values (batchSize x image size), found ${into.length}`,
      );
    }
    const images = into ? into.subarray(0, n * size) : new Float32Array(n * size);
    const labels = new Int32Array(n);
    const indices = order.slice(position.index, position.index + n);
    const rng = this.augment
      ? Rng.fromSeed(deriveSeed(this.seed, position.epoch, position.index, AUGMENT_STREAM))
      : null;
    const { padding = 0, flip = false } = this.augment ?? {};
    for (let i = 0; i < n; i++) {
      const example = indices[i]!;
      labels[i] = split.labels[example]!;
      let cropFlip: CropFlip | null = null;
      if (rng) {
        cropFlip = {
          dx: padding > 0 ? rng.nextInt(2 * padding + 1) : padding,
          dy: padding > 0 ? rng.nextInt(2 * padding + 1) : padding,
          flip: flip ? (rng.nextUint32() & 1) === 1 : false,
          padding,
        };
      }
      writeExample(
        split.images,
        example * size,
        split.height,
        split.width,
        split.channels,
        images,
        i * size,
        this.table,
        cropFlip,
      );
    }
    this.index += n;
    this.rollOver();
    return { images, labels, indices, shape: [n, split.height, split.width, split.channels], position };
  }

  /** The rest of the current epoch's batches. */
  *epoch(): Generator<Batch> {
    const epoch = this.epochNumber;
    while (this.epochNumber === epoch) yield this.next();
  }

  /** Moves to the next epoch when this one has no (full, with dropLast) batch left. */
  private rollOver(): void {
    const remaining = this.split.count - this.index;
    if (remaining === 0 || (this.dropLast && remaining < this.batchSize)) {
      this.epochNumber++;
      this.index = 0;
    }
  }
}

export function createBatchIterator(
  split: ImageSplit | { split: ImageSplit },
  options: BatchIteratorOptions,
): BatchIterator {
  return new BatchIterator(split, options);
}

const SPLIT_FIELDS = ['count', 'height', 'width', 'channels'] as const;

/** The ImageSplit in `source` (itself, or its `.split`), refused unless its fields agree with each other. */
function checkedSplit(source: ImageSplit | { split: ImageSplit }): ImageSplit {
  const split = (
    source && typeof source === 'object' && 'split' in source && !('images' in source) ? source.split : source
  ) as ImageSplit;
  const refuse = (found: string, fix: string): never => {
    throw new InputError({
      where: 'BatchIterator',
      key: 'split',
      expected: 'an ImageSplit { images: Uint8Array, labels: Int32Array, count, height, width, channels }',
      found,
      fix,
    });
  };
  if (!split || typeof split !== 'object')
    return refuse(String(split), 'pass a split of a loaded dataset (dataset.train)');
  const missing = SPLIT_FIELDS.filter(
    (k) => !Number.isInteger((split as ImageSplit)[k]) || (split as ImageSplit)[k] < 0,
  );
  if (!(split.images instanceof Uint8Array) || !(split.labels instanceof Int32Array) || missing.length > 0) {
    return refuse(
      `an object with keys ${Object.keys(split).join(', ')}`,
      'pass dataset.train / dataset.test, or the `.split` of what classBalancedSubset or validationSplit returns',
    );
  }
  if (split.images.length !== split.count * imageSize(split) || split.labels.length !== split.count) {
    return refuse(
      `count ${split.count} with ${split.images.length} image bytes (${split.count * imageSize(split)} expected) and ${split.labels.length} labels`,
      'build splits with selectExamples or the subset functions, which keep the fields consistent',
    );
  }
  return split;
}
