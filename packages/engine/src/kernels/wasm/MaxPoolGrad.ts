import * as tf from '@tensorflow/tfjs';
import { maxPoolPositions } from './max-pool-positions.js';
import { type BackendWasm, heapFloat32 } from './wasm-backend.js';

/**
 * MaxPoolGrad for the wasm backend: stock wasm starts its running max at +1e-38, so windows whose
 * values are all ≤ 0 route the gradient wrongly. dx[argmax of each window] += dy[window].
 */
function maxPoolGrad(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: tf.KernelBackend;
  attrs: tf.NamedAttrMap;
}): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const { dy, input } = args.inputs as { dy: tf.TensorInfo; input: tf.TensorInfo };
  const { filterSize, strides, pad, dimRoundingMode } = args.attrs as unknown as tf.MaxPoolGradAttrs;
  const info = tf.backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    filterSize,
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  const dx = backend.makeOutput(input.shape, 'float32');
  const positions = maxPoolPositions(heapFloat32(backend, input), info);
  const grad = heapFloat32(backend, dx);
  const upstream = heapFloat32(backend, dy);
  grad.fill(0);
  for (let i = 0; i < positions.length; i++) {
    const at = positions[i] as number;
    if (at >= 0) grad[at] = (grad[at] as number) + (upstream[i] as number);
  }
  return dx;
}

export const maxPoolGradConfig: tf.KernelConfig = {
  kernelName: tf.MaxPoolGrad,
  backendName: 'wasm',
  kernelFunc: maxPoolGrad as unknown as tf.KernelFunc,
};
