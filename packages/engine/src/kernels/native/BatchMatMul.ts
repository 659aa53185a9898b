import * as tf from '@tensorflow/tfjs';
import { nativeMatMul } from './matmul-operands.js';
import { runReplacedKernel } from './native-backend.js';

/**
 * BatchMatMul on the native tier: one oneDNN sgemm per batch entry, transposes passed to it
 * as flags (no copies). Batch shapes that broadcast other than one-against-many go to wasm.
 */
function batchMatMul(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: tf.KernelBackend;
  attrs: tf.NamedAttrMap;
}): tf.TensorInfo {
  const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const attrs = args.attrs as unknown as tf.BatchMatMulAttrs;
  return nativeMatMul(args.backend, a, b, attrs) ?? runReplacedKernel(tf.BatchMatMul, args);
}

export const nativeBatchMatMulConfig = {
  kernelName: tf.BatchMatMul,
  backendName: 'wasm',
  kernelFunc: batchMatMul as unknown as tf.KernelFunc,
} satisfies tf.KernelConfig;
