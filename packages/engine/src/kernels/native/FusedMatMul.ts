import * as tf from '@tensorflow/tfjs';
import { nativeMatMul } from './matmul-operands.js';
import { runReplacedKernel } from './native-backend.js';

/**
 * _FusedMatMul (what dense layers run) on the native tier: c = act(op(a) · op(b) + bias) for
 * act ∈ {linear, relu} and a bias of one value per output column, added in the addon. Other
 * activations and biases go to the wasm kernel.
 */
function fusedMatMul(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: tf.KernelBackend;
  attrs: tf.NamedAttrMap;
}): tf.TensorInfo {
  const { a, b, bias } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo; bias?: tf.TensorInfo };
  const attrs = args.attrs as unknown as tf._FusedMatMulAttrs;
  const { activation } = attrs;
  if (activation !== undefined && activation !== 'linear' && activation !== 'relu') {
    return runReplacedKernel(tf._FusedMatMul, args);
  }
  const epilogue = { relu: activation === 'relu', ...(bias ? { bias } : {}) };
  return nativeMatMul(args.backend, a, b, attrs, epilogue) ?? runReplacedKernel(tf._FusedMatMul, args);
}

export const nativeFusedMatMulConfig = {
  kernelName: tf._FusedMatMul,
  backendName: 'wasm',
  kernelFunc: fusedMatMul as unknown as tf.KernelFunc,
} satisfies tf.KernelConfig;
