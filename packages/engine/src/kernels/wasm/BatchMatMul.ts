import * as tf from '@tensorflow/tfjs';
import { plainOperands, replacingStock } from './matmul-without-transposes.js';
import { type BackendWasm, stockWasmKernel } from './wasm-backend.js';

/** BatchMatMul on wasm with transposed operands kept on the XNNPACK path (see the helper). */
function batchMatMul(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: tf.KernelBackend;
  attrs: tf.NamedAttrMap;
}) {
  const backend = args.backend as BackendWasm;
  const stock = stockWasmKernel(tf.BatchMatMul).kernelFunc;
  const attrs = args.attrs as unknown as tf.BatchMatMulAttrs;
  if (!attrs.transposeA && !attrs.transposeB) return stock(args);
  const operands = plainOperands(backend, args.inputs, attrs);
  const out = stock({
    inputs: { a: operands.a, b: operands.b },
    backend,
    attrs: { ...args.attrs, transposeA: false, transposeB: false },
  });
  operands.dispose();
  return out;
}

export const batchMatMulConfig: tf.KernelConfig = replacingStock(
  tf.BatchMatMul,
  batchMatMul as unknown as tf.KernelFunc,
);
