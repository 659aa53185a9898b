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

/**
 * The [B, outH, outW, C] view of a padded NHWC tensor at window offset (di, dj): element (b, i, j, c)
 * is padded[b, i·strideH + di, j·strideW + dj, c].
 */
export function windowOffsetView(padded: tf.Tensor4D, w: PoolWindows, di: number, dj: number): tf.Tensor4D {
  const [batch, , , channels] = padded.shape;
  return tf.stridedSlice(
    padded,
    [0, di, dj, 0],
    [batch, di + (w.outHeight - 1) * w.strideHeight + 1, dj + (w.outWidth - 1) * w.strideWidth + 1, channels],
    [1, w.strideHeight, w.strideWidth, 1],
  ) as tf.Tensor4D;
}
