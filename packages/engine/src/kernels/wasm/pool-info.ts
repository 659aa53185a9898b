import * as tf from '@tensorflow/tfjs';

/** The window attrs every 2D pooling kernel takes (MaxPool, MaxPoolGrad, AvgPoolGrad, ...). */
export interface PoolAttrs {
  filterSize: [number, number] | number;
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/**
 * tfjs's Conv2DInfo of a 2D pool over the NHWC tensor `input` (dilation 1), shared by FisherLab's
 * wasm and native pooling kernels.
 */
export function poolInfo(
  input: tf.TensorInfo,
  attrs: tf.NamedAttrMap | PoolAttrs,
): tf.backend_util.Conv2DInfo {
  const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as PoolAttrs;
  return tf.backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    filterSize,
    strides,
    1,
    pad,
    dimRoundingMode,
  );
}
