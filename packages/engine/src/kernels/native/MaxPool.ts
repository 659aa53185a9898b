import * as tf from '@tensorflow/tfjs';
import { poolInfo } from '../wasm/pool-info.js';
import { nativeConvShape } from './conv-shape.js';
import { floatsOf, makeFloatOutput, nativeAddon, runReplacedKernel } from './native-backend.js';

/**
 * MaxPool on the native tier: the maximum of each window (clipped to the image) per channel, on
 * OpenMP threads (stock wasm runs XNNPACK's pooling on one thread: 1.9 ms for SimpleCNN's first
 * pool at batch 128). Non-float32 tensors and empty shapes go to the wasm kernel.
 */
function maxPool(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: tf.KernelBackend;
  attrs: tf.NamedAttrMap;
}): tf.TensorInfo {
  const { backend } = args;
  const { x } = args.inputs as { x: tf.TensorInfo };
  const info = poolInfo(x, args.attrs);
  const covered =
    x.dtype === 'float32' &&
    x.shape.length === 4 &&
    x.shape.every((d) => d > 0) &&
    info.outShape.every((d) => d > 0);
  if (!covered) return runReplacedKernel(tf.MaxPool, args);
  const y = makeFloatOutput(backend, info.outShape);
  nativeAddon().maxPool(nativeConvShape(info), floatsOf(backend, x), floatsOf(backend, y));
  return y;
}

export const nativeMaxPoolConfig = {
  kernelName: tf.MaxPool,
  backendName: 'wasm',
  kernelFunc: maxPool as unknown as tf.KernelFunc,
} satisfies tf.KernelConfig;
