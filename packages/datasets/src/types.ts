/**
 * Images are kept as uint8 in NHWC order (example, row, column, channel), the layout TensorFlow.js
 * expects, with int32 labels. This package does not depend on TensorFlow.js: float32 batches come
 * out of the batch iterator as plain Float32Array + shape, and the caller wraps them in tensors.
 */
export interface ImageSplit {
  /** count * height * width * channels bytes, NHWC. */
  images: Uint8Array;
  /** One class index per image, 0 <= label < numClasses. */
  labels: Int32Array;
  count: number;
  height: number;
  width: number;
  channels: number;
}

export interface DatasetMeta {
  /** Canonical dataset name ('cifar10', 'fashion-mnist-embedded', ...). */
  name: string;
  /** Directory the data was read from. */
  dir: string;
  /** Files read, relative to `dir`. */
  sourceFiles: string[];
  /** md5 (hex) of each source file, keyed like `sourceFiles`. */
  checksums: Record<string, string>;
  counts: { train: number; test: number };
  /** Per-channel mean and standard deviation of the TRAIN images, on the [0, 1] pixel scale. */
  mean: number[];
  std: number[];
  /** Free-form notes (e.g. CIFAR-100 label kind, TinyImageNet's "test" being its labeled val split). */
  notes?: string[];
}

export interface Dataset {
  name: string;
  train: ImageSplit;
  test: ImageSplit;
  classNames: string[];
  meta: DatasetMeta;
}

/** Bytes per image of a split. */
export function imageSize(split: Pick<ImageSplit, 'height' | 'width' | 'channels'>): number {
  return split.height * split.width * split.channels;
}
