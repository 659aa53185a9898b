import * as tf from '@tensorflow/tfjs';
import { forwardConvInfo } from '../wasm/conv-info.js';
import { nativeConvShape, nativeCovers } from './conv-shape.js';
import { computeOrDelegate, floatsOf, nativeAddon, runReplacedKernel } from './native-backend.js';

/**
 * Conv2D on the native tier: a oneDNN convolution written straight into the output's wasm heap
 * buffer. Dilated or NCHW convolutions go to the wasm kernel.
 */
function conv2D(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: tf.KernelBackend;
  attrs: tf.NamedAttrMap;
}): tf.TensorInfo {
  const { backend } = args;
  const { x, filter } = args.inputs as { x: tf.TensorInfo; filter: tf.TensorInfo };
  const info = forwardConvInfo(x, filter, args.attrs);
  if (!nativeCovers(info, x, filter)) return runReplacedKernel(tf.Conv2D, args);
  return computeOrDelegate(tf.Conv2D, args, info.outShape, (y) =>
    nativeAddon().conv2d(
      nativeConvShape(info),
      floatsOf(backend, x),
      floatsOf(backend, filter),
      null,
      false,
      floatsOf(backend, y),
    ),
  );
}

export const nativeConv2DConfig = {
  kernelName: tf.Conv2D,
  backendName: 'wasm',
  kernelFunc: conv2D as unknown as tf.KernelFunc,
} satisfies tf.KernelConfig;
