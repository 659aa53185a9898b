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
    info.outShape.every((d) => d > 0)
  );
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

/**
 * Whether the native forward convolution beats XNNPACK's direct one for this shape. Measured at
 * batch 128 on SimpleCNN and VGG-11 layers (pnpm bench:native): with few taps (kh·kw·Cin = 27,
 * 288, 576) the im2col copy and a thin product lose to XNNPACK (0.35-0.9x); from 1,152 taps on,
 * native wins 1.7-2.4x. The backward kernels win on every measured layer, so they have no gate.
 */
export const NATIVE_FORWARD_MIN_TAPS = 1024;

/** The gate in force; tests lower it to 0 to check the native forward kernels on small shapes. */
export const nativeForwardGate = { minTaps: NATIVE_FORWARD_MIN_TAPS };

export const nativeForwardPays = (info: tf.backend_util.Conv2DInfo): boolean =>
  info.filterHeight * info.filterWidth * info.inChannels >= nativeForwardGate.minTaps;
