import * as tf from '@tensorflow/tfjs';

type PoolPad = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;

/** Geometry of a 2-D pooling window over an NHWC input, as the kernels compute it. */
export interface PoolWindows {
  filterHeight: number;
  filterWidth: number;
  strideHeight: number;
  strideWidth: number;
  outHeight: number;
  outWidth: number;
  /** Explicit [[0,0],[top,bottom],[left,right],[0,0]] padding equivalent to `pad`. */
  paddings: [number, number][];
}

export function poolWindows(
  inShape: number[],
  filterSize: [number, number] | number,
  strides: [number, number] | number,
  pad: PoolPad,
  dimRoundingMode?: 'floor' | 'round' | 'ceil',
): PoolWindows {
  const info = tf.backend_util.computePool2DInfo(
    inShape as [number, number, number, number],
    filterSize,
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  const { top, bottom, left, right } = info.padInfo;
  return {
    filterHeight: info.filterHeight,
    filterWidth: info.filterWidth,
    strideHeight: info.strideHeight,
    strideWidth: info.strideWidth,
    outHeight: info.outHeight,
    outWidth: info.outWidth,
    paddings: [
      [0, 0],
      [top, Math.max(0, bottom)],
      [left, Math.max(0, right)],
      [0, 0],
    ],
  };
}

/** True when windows do not overlap (stride ≥ filter in both directions). */
export const windowsAreDisjoint = (w: PoolWindows): boolean =>
  w.strideHeight >= w.filterHeight && w.strideWidth >= w.filterWidth;

/**
 * Pads an NHWC tensor as the pooling pads it, plus enough extra rows/columns at the bottom/right
 * (filled with `value`) that every window offset view below has a full [outH·strideH, outW·strideW]
 * extent.
 */
export function padForWindows(x: tf.Tensor4D, w: PoolWindows, value: number): tf.Tensor4D {
  const [, height, width] = x.shape;
  const [, [top, bottom], [left, right]] = w.paddings as [
    [number, number],
    [number, number],
    [number, number],
  ];
  const needHeight = w.filterHeight - 1 + w.outHeight * w.strideHeight;
  const needWidth = w.filterWidth - 1 + w.outWidth * w.strideWidth;
  const extraBottom = Math.max(bottom, needHeight - top - height);
  const extraRight = Math.max(right, needWidth - left - width);
  // Nothing to add (the zoo's 2x2/2 pools on even sizes): skip the copy a pad would make.
  if (top === 0 && left === 0 && extraBottom === 0 && extraRight === 0) return x;
  return tf.pad(
    x,
    [
      [0, 0],
      [top, extraBottom],
      [left, extraRight],
      [0, 0],
    ],
    value,
  );
}

/**
 * The [B, outH, outW, C] view of a tensor padded by `padForWindows` at window offset (di, dj):
 * element (b, i, j, c) is padded[b, i·strideH + di, j·strideW + dj, c]. Built from a contiguous
 * slice and a reshape that splits each spatial axis into (out, stride), because wasm's StridedSlice
 * is ~400 ms per call on a batch-128 activation.
 */
export function windowOffsetView(padded: tf.Tensor4D, w: PoolWindows, di: number, dj: number): tf.Tensor4D {
  const [batch, , , channels] = padded.shape;
  const { outHeight, outWidth, strideHeight, strideWidth } = w;
  const region = tf.slice(
    padded,
    [0, di, dj, 0],
    [batch, outHeight * strideHeight, outWidth * strideWidth, channels],
  );
  const split = tf.reshape(region, [batch, outHeight, strideHeight, outWidth, strideWidth, channels]);
  const picked = tf.slice(split, [0, 0, 0, 0, 0, 0], [batch, outHeight, 1, outWidth, 1, channels]);
  return tf.reshape(picked, [batch, outHeight, outWidth, channels]);
}
