import * as tf from '@tensorflow/tfjs';
import { type BackendWasm, disposeIntermediate, runWasmKernel, stockWasmKernel } from './wasm-backend.js';

/**
 * tfjs 4.22's wasm matmul runs on XNNPACK only when neither operand is transposed; with
 * transposeA or transposeB it falls back to a scalar loop, 4.5-30x slower on the products of a
 * 4096→128 dense layer's backward pass (pnpm bench:kernels). Backprop through every dense layer asks for transposed products, so the
 * replacements transpose the flagged operands explicitly (a cheap copy) and call the stock kernel
 * with both flags off.
 */

export interface PlainOperands {
  a: tf.TensorInfo;
  b: tf.TensorInfo;
  /** Frees the transposed copies (not the caller's inputs). */
  dispose: () => void;
}

/** a and b with any transpose flag applied by an explicit copy. */
export function plainOperands(
  backend: BackendWasm,
  inputs: tf.NamedTensorInfoMap,
  attrs: { transposeA: boolean; transposeB: boolean },
): PlainOperands {
  const a = inputs['a'] as tf.TensorInfo;
  const b = inputs['b'] as tf.TensorInfo;
  const aPlain = attrs.transposeA ? transposeLastTwo(backend, a) : a;
  const bPlain = attrs.transposeB ? transposeLastTwo(backend, b) : b;
  return {
    a: aPlain,
    b: bPlain,
    dispose: () => {
      if (aPlain !== a) disposeIntermediate(backend, aPlain);
      if (bPlain !== b) disposeIntermediate(backend, bPlain);
    },
  };
}

export function transposeLastTwo(backend: BackendWasm, x: tf.TensorInfo): tf.TensorInfo {
  const rank = x.shape.length;
  const perm = [...Array(rank).keys()];
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return runWasmKernel(backend, tf.Transpose, { x }, { perm });
}

/** A config whose setup still binds the stock kernel's wasm function on this backend. */
export function replacingStock(kernelName: string, kernelFunc: tf.KernelFunc): tf.KernelConfig {
  return {
    kernelName,
    backendName: 'wasm',
    setupFunc: (backend) => stockWasmKernel(kernelName).setupFunc?.(backend),
    kernelFunc,
  };
}
