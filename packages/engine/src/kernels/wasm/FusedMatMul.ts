import * as tf from '@tensorflow/tfjs';
import { plainOperands, replacingStock } from './matmul-without-transposes.js';
import { type BackendWasm, disposeIntermediate, runWasmKernel, stockWasmKernel } from './wasm-backend.js';

/**
 * _FusedMatMul (matmul + bias + activation, used by dense layers) on wasm. Two stock defects:
 * transposed operands take a slow scalar loop (fixed by explicit transposes), and with a batch
 * dimension above 1 the stock kernel returns wrong values for every batch entry but the first
 * (checked against cpu), so batched products are computed as BatchMatMul, Add bias, activation.
 */
function fusedMatMul(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: tf.KernelBackend;
  attrs: tf.NamedAttrMap;
}) {
  const backend = args.backend as BackendWasm;
  const attrs = args.attrs as unknown as tf._FusedMatMulAttrs;
  const operands = plainOperands(backend, args.inputs, attrs);
  const plainAttrs = { ...args.attrs, transposeA: false, transposeB: false };
  const batch = Math.max(batchSize(operands.a), batchSize(operands.b));
  let out: tf.TensorInfo;
  if (batch === 1) {
    out = stockWasmKernel(tf._FusedMatMul).kernelFunc({
      inputs: { ...args.inputs, a: operands.a, b: operands.b },
      backend,
      attrs: plainAttrs,
    }) as tf.TensorInfo;
  } else {
    const product = runWasmKernel(backend, tf.BatchMatMul, { a: operands.a, b: operands.b }, plainAttrs);
    const bias = args.inputs['bias'];
    const biased = bias ? runWasmKernel(backend, tf.Add, { a: product, b: bias }) : product;
    out = activate(backend, biased, attrs, args.inputs['preluActivationWeights']);
    if (biased !== product) disposeIntermediate(backend, product);
    if (out !== biased) disposeIntermediate(backend, biased);
  }
  operands.dispose();
  return out;
}

const batchSize = (x: tf.TensorInfo): number => x.shape.slice(0, -2).reduce((p, d) => p * d, 1);

function activate(
  backend: BackendWasm,
  x: tf.TensorInfo,
  attrs: tf._FusedMatMulAttrs,
  preluWeights: tf.TensorInfo | undefined,
): tf.TensorInfo {
  switch (attrs.activation) {
    case undefined:
    case 'linear':
      return x;
    case 'relu':
      return runWasmKernel(backend, tf.Relu, { x });
    case 'relu6':
      return runWasmKernel(backend, tf.Relu6, { x });
    case 'elu':
      return runWasmKernel(backend, tf.Elu, { x });
    case 'sigmoid':
      return runWasmKernel(backend, tf.Sigmoid, { x });
    case 'leakyrelu':
      return runWasmKernel(backend, tf.LeakyRelu, { x }, { alpha: attrs.leakyreluAlpha });
    case 'prelu':
      if (!preluWeights) throw new Error("_FusedMatMul: activation 'prelu' needs preluActivationWeights");
      return runWasmKernel(backend, tf.Prelu, { x, alpha: preluWeights });
    default:
      throw new Error(`_FusedMatMul on wasm: unknown activation '${attrs.activation}'`);
  }
}

export const fusedMatMulConfig: tf.KernelConfig = replacingStock(
  tf._FusedMatMul,
  fusedMatMul as unknown as tf.KernelFunc,
);
