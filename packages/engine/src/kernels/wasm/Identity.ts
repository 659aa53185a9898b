import * as tf from '@tensorflow/tfjs';
import { type BackendWasm, stockWasmKernel } from './wasm-backend.js';

/**
 * Identity and same-dtype Cast that share the input's data (one more reference) instead of
 * copying it, as the cpu and webgl backends do. tfjs clones every tensor it saves for the backward
 * pass through Identity, and the gradient of each recorded clone is a float32 Cast, so on stock wasm
 * every saved tensor was a full copy: on VGG-11's penalized step at batch 64, 1,130 Identity and 374
 * Cast calls (0.47 s of a 5.2 s step) and a second copy of the whole saved set on the heap. Sharing is
 * safe because no kernel writes into its inputs (variables are updated by swapping data, not in place).
 * Casts to bool are fixed too: stock wasm wraps numbers into bytes instead of testing x ≠ 0.
 */
function identity(args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend }): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const { x } = args.inputs as { x: tf.TensorInfo };
  if (x.dtype === 'string') {
    return stockWasmKernel(tf.Identity).kernelFunc(args as never) as tf.TensorInfo;
  }
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
}

function cast(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: tf.KernelBackend;
  attrs: tf.NamedAttrMap;
}): tf.TensorInfo {
  const { x } = args.inputs as { x: tf.TensorInfo };
  const { dtype } = args.attrs as unknown as tf.CastAttrs;
  if (dtype === x.dtype && x.dtype !== 'string') return identity(args);
  if (dtype === 'bool' && x.dtype !== 'string') {
    // Stock wasm copies the numbers into a Uint8Array (-2.7 becomes 254); bool means x ≠ 0.
    const backend = args.backend as BackendWasm;
    const out = backend.makeOutput(x.shape, 'bool');
    const input = backend.typedArrayFromHeap(x);
    const flags = backend.typedArrayFromHeap(out) as Uint8Array;
    for (let i = 0; i < flags.length; i++) flags[i] = input[i] !== 0 ? 1 : 0;
    return out;
  }
  return stockWasmKernel(tf.Cast).kernelFunc(args as never) as tf.TensorInfo;
}

export const identityConfig: tf.KernelConfig = {
  kernelName: tf.Identity,
  backendName: 'wasm',
  kernelFunc: identity as unknown as tf.KernelFunc,
};

export const castConfig: tf.KernelConfig = {
  kernelName: tf.Cast,
  backendName: 'wasm',
  kernelFunc: cast as unknown as tf.KernelFunc,
};
