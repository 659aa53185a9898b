import * as tf from '@tensorflow/tfjs';
import { poolInfo } from '../wasm/pool-info.js';
import { type BackendWasm, heapFloat32 } from '../wasm/wasm-backend.js';
import { nativeConvShape } from './conv-shape.js';
import { nativeAddon, runReplacedKernel } from './native-backend.js';

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
  const backend = args.backend as BackendWasm;
  const { dy, input } = args.inputs as { dy: tf.TensorInfo; input: tf.TensorInfo };
  const info = poolInfo(input, args.attrs);
  const covered =
    input.dtype === 'float32' &&
    dy.dtype === 'float32' &&
    input.shape.every((d) => d > 0) &&
    info.outShape.every((d) => d > 0);
  if (!covered) return runReplacedKernel(tf.MaxPoolGrad, args);
  const dx = backend.makeOutput(input.shape, 'float32');
  nativeAddon().maxPoolGrad(
    nativeConvShape(info),
    heapFloat32(backend, input),
    heapFloat32(backend, dy),
    heapFloat32(backend, dx),
  );
  return dx;
}

export const nativeMaxPoolGradConfig = {
  kernelName: tf.MaxPoolGrad,
  backendName: 'wasm',
  kernelFunc: maxPoolGrad as unknown as tf.KernelFunc,
} satisfies tf.KernelConfig;
