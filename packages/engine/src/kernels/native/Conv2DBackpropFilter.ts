import * as tf from '@tensorflow/tfjs';
import { backpropFilterInfo } from '../wasm/conv-info.js';
import { nativeConvShape, nativeCovers } from './conv-shape.js';
import { computeOrDelegate, floatsOf, nativeAddon, runReplacedKernel } from './native-backend.js';

/**
 * Conv2DBackpropFilter on the native tier:
 *   dW[(kh, kw, ci), co] = Σ_{n, oh, ow} x[n, oh·s + kh − pt, ow·s + kw − pl, ci] · dy[n, oh, ow, co]
 *                        = (colsᵀ · dy₂)[(kh, kw, ci), co]
 * as oneDNN's backward-weights convolution (the gradient reordered back to tfjs's hwio layout).
 */
function conv2DBackpropFilter(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: tf.KernelBackend;
  attrs: tf.NamedAttrMap;
}): tf.TensorInfo {
  const { backend } = args;
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const { filterShape } = args.attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  const info = backpropFilterInfo(x, args.attrs);
  if (!nativeCovers(info, x, dy)) return runReplacedKernel(tf.Conv2DBackpropFilter, args);
  return computeOrDelegate(tf.Conv2DBackpropFilter, args, [...filterShape], (dw) =>
    nativeAddon().conv2dBackpropFilter(
      nativeConvShape(info),
      floatsOf(backend, x),
      floatsOf(backend, dy),
      floatsOf(backend, dw),
    ),
  );
}

export const nativeConv2DBackpropFilterConfig = {
  kernelName: tf.Conv2DBackpropFilter,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropFilter as unknown as tf.KernelFunc,
} satisfies tf.KernelConfig;
