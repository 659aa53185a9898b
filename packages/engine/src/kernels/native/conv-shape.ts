import type * as tf from '@tensorflow/tfjs';

/**
 * The convolutions the native kernels compute: NHWC, dilation 1, float32, no empty dimension.
 * Anything else goes to the wasm kernel the native one replaced.
 */
export function nativeCovers(info: tf.backend_util.Conv2DInfo, ...tensors: tf.TensorInfo[]): boolean {
  return (
    info.dataFormat === 'channelsLast' &&
    info.dilationHeight === 1 &&
    info.dilationWidth === 1 &&
    info.padInfo.top >= 0 &&
    info.padInfo.left >= 0 &&
    tensors.every((t) => t.dtype === 'float32' && t.shape.every((d) => d > 0)) &&
    info.outShape.every((d) => d > 0) &&
    followsFromPadding(
      info.inHeight,
      info.filterHeight,
      info.strideHeight,
      info.padInfo.top,
      info.outHeight,
    ) &&
    followsFromPadding(info.inWidth, info.filterWidth, info.strideWidth, info.padInfo.left, info.outWidth)
  );
}

/**
 * oneDNN derives the output size as ⌊(in − k + padBefore + padAfter) / s⌋ + 1 and the addon passes
 * padAfter = max(0, (out − 1)·s + k − in − padBefore), the least that reaches the last output;
 * true when that reproduces tfjs's output size (always, except for unusual rounding modes).
 */
function followsFromPadding(
  size: number,
  filter: number,
  stride: number,
  padBefore: number,
  out: number,
): boolean {
  const padAfter = Math.max(0, (out - 1) * stride + filter - size - padBefore);
  return Math.floor((size - filter + padBefore + padAfter) / stride) + 1 === out;
}

/** The addon's shape argument: [N, H, W, Cin, OH, OW, Cout, KH, KW, strideH, strideW, padTop, padLeft]. */
export function nativeConvShape(info: tf.backend_util.Conv2DInfo): number[] {
  return [
    info.batchSize,
    info.inHeight,
    info.inWidth,
    info.inChannels,
    info.outHeight,
    info.outWidth,
    info.outChannels,
    info.filterHeight,
    info.filterWidth,
    info.strideHeight,
    info.strideWidth,
    info.padInfo.top,
    info.padInfo.left,
  ];
}
