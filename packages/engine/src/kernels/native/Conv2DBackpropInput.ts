import * as tf from '@tensorflow/tfjs';
import { backpropInputInfo } from '../wasm/conv-info.js';
import { nativeConvShape, nativeCovers } from './conv-shape.js';
import { computeOrDelegate, floatsOf, nativeAddon, runReplacedKernel } from './native-backend.js';

/**
 * Conv2DBackpropInput on the native tier, oneDNN's backward-data convolution:
 *   dx[n, i, j, ci] = Σ_{oh, ow, kh, kw, co} dy[n, oh, ow, co] · W[kh, kw, ci, co],  i = oh·s + kh − pt, j = ow·s + kw − pl
 */
function conv2DBackpropInput(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: tf.KernelBackend;
  attrs: tf.NamedAttrMap;
}): tf.TensorInfo {
  const { backend } = args;
  const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const { inputShape } = args.attrs as unknown as tf.Conv2DBackpropInputAttrs;
  const info = backpropInputInfo(filter, args.attrs);
  if (!nativeCovers(info, dy, filter)) return runReplacedKernel(tf.Conv2DBackpropInput, args);
  return computeOrDelegate(tf.Conv2DBackpropInput, args, [...inputShape], (dx) =>
    nativeAddon().conv2dBackpropInput(
      nativeConvShape(info),
      floatsOf(backend, dy),
      floatsOf(backend, filter),
      floatsOf(backend, dx),
    ),
  );
}

export const nativeConv2DBackpropInputConfig = {
  kernelName: tf.Conv2DBackpropInput,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropInput as unknown as tf.KernelFunc,
} satisfies tf.KernelConfig;
