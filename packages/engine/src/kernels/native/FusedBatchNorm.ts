import * as tf from '@tensorflow/tfjs';
import { floatsOf, makeFloatOutput, nativeAddon, runReplacedKernel } from './native-backend.js';

/**
 * FusedBatchNorm (batch norm with given statistics, what tf.layers.batchNormalization runs) on the
 * native tier: y = (x − mean) · scale / √(variance + ε) + offset per channel of the last axis, on
 * OpenMP threads. Stock wasm computes it one scalar at a time (34 ms for VGG-11's first batch norm,
 * [128, 32, 32, 64], against about 3 here). Statistics that are not one value per channel of the
 * last axis, and non-float32 tensors, go to the wasm kernel.
 */
function fusedBatchNorm(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: tf.KernelBackend;
  attrs: tf.NamedAttrMap;
}): tf.TensorInfo {
  const { backend } = args;
  const { x, mean, variance, offset, scale } = args.inputs as {
    x: tf.TensorInfo;
    mean: tf.TensorInfo;
    variance: tf.TensorInfo;
    offset?: tf.TensorInfo;
    scale?: tf.TensorInfo;
  };
  const { varianceEpsilon } = args.attrs as unknown as tf.FusedBatchNormAttrs;
  const channels = x.shape[x.shape.length - 1] ?? 0;
  const perChannel = (t: tf.TensorInfo | undefined) =>
    t === undefined || (t.dtype === 'float32' && tf.util.sizeFromShape(t.shape) === channels);
  const covered =
    x.dtype === 'float32' &&
    x.shape.length >= 1 &&
    tf.util.sizeFromShape(x.shape) > 0 &&
    [mean, variance].every((t) => t !== undefined && perChannel(t)) &&
    perChannel(offset) &&
    perChannel(scale);
  if (!covered) return runReplacedKernel(tf.FusedBatchNorm, args);
  const y = makeFloatOutput(backend, x.shape);
  nativeAddon().batchNorm(
    tf.util.sizeFromShape(x.shape) / channels,
    channels,
    floatsOf(backend, x),
    floatsOf(backend, mean),
    floatsOf(backend, variance),
    offset ? floatsOf(backend, offset) : null,
    scale ? floatsOf(backend, scale) : null,
    varianceEpsilon,
    floatsOf(backend, y),
  );
  return y;
}

export const nativeFusedBatchNormConfig = {
  kernelName: tf.FusedBatchNorm,
  backendName: 'wasm',
  kernelFunc: fusedBatchNorm as unknown as tf.KernelFunc,
} satisfies tf.KernelConfig;
