import * as tf from '@tensorflow/tfjs';
import { poolInfo } from '../wasm/pool-info.js';
import { nativeConvShape } from './conv-shape.js';
import { floatsOf, makeFloatOutput, nativeAddon, runReplacedKernel } from './native-backend.js';

/**
 * MaxPoolGrad on the native tier: dx[argmax of each window] += dy[window], the argmax being the
 * first maximum in row-major window order with padding never winning (as on cpu and in FisherLab's
 * wasm kernel), one OpenMP thread per block of images. Non-float32 tensors go to the wasm kernel.
 */
function maxPoolGrad(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: tf.KernelBackend;
  attrs: tf.NamedAttrMap;
}): tf.TensorInfo {
  const { backend } = args;
  const { dy, input } = args.inputs as { dy: tf.TensorInfo; input: tf.TensorInfo };
  const info = poolInfo(input, args.attrs);
  const covered =
    input.dtype === 'float32' &&
    dy.dtype === 'float32' &&
    input.shape.every((d) => d > 0) &&
    info.outShape.every((d) => d > 0);
  if (!covered) return runReplacedKernel(tf.MaxPoolGrad, args);
  const dx = makeFloatOutput(backend, input.shape);
  nativeAddon().maxPoolGrad(
    nativeConvShape(info),
    floatsOf(backend, input),
    floatsOf(backend, dy),
    floatsOf(backend, dx),
  );
  return dx;
}

export const nativeMaxPoolGradConfig = {
  kernelName: tf.MaxPoolGrad,
  backendName: 'wasm',
  kernelFunc: maxPoolGrad as unknown as tf.KernelFunc,
} satisfies tf.KernelConfig;
