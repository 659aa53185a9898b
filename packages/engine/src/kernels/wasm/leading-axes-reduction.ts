import * as tf from '@tensorflow/tfjs';
import { replacingStock } from './matmul-without-transposes.js';
import {
  type BackendWasm,
  disposeIntermediate,
  heapFloat32,
  runWasmKernel,
  stockWasmKernel,
} from './wasm-backend.js';

/**
 * Sum and Mean on wasm over the leading axes of a tensor (bias gradients reduce dy over
 * [N, H, W]; batch-norm statistics over the same axes). Stock wasm transposes the reduced axes to
 * the end and sums with a scalar loop: 25 ms for a 128x32x32x32 tensor, CPU time. As a product
 * with a constant row vector it runs on XNNPACK in under 1 ms:
 *   sum_{i<rows} x[i, c] = (1ᵀ · X)[c],   mean = ((1/rows)ᵀ · X)[c],   X = x as [rows, cols]
 * Other axes and non-float32 tensors go to the stock kernel.
 */
export function leadingAxesReduction(kernelName: typeof tf.Sum | typeof tf.Mean): tf.KernelConfig {
  const kernelFunc = (args: {
    inputs: tf.NamedTensorInfoMap;
    backend: tf.KernelBackend;
    attrs: tf.NamedAttrMap;
  }) => {
    const backend = args.backend as BackendWasm;
    const x = args.inputs['x'] as tf.TensorInfo;
    const { axis, keepDims } = args.attrs as unknown as tf.SumAttrs;
    const axes = tf.util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
    const leading = axes.length > 0 && axes.length < x.shape.length && axes.every((a, i) => a === i);
    if (!leading || x.dtype !== 'float32') return stockWasmKernel(kernelName).kernelFunc(args);
    const rows = x.shape.slice(0, axes.length).reduce((p, d) => p * d, 1);
    const keptShape = x.shape.slice(axes.length);
    const cols = keptShape.reduce((p, d) => p * d, 1);
    const weights = backend.makeOutput([1, 1, rows], 'float32');
    heapFloat32(backend, weights).fill(kernelName === tf.Mean ? 1 / rows : 1);
    const product = runWasmKernel(
      backend,
      tf.BatchMatMul,
      { a: weights, b: { dataId: x.dataId, shape: [1, rows, cols], dtype: x.dtype } },
      { transposeA: false, transposeB: false },
    );
    disposeIntermediate(backend, weights);
    const outShape = keepDims ? [...axes.map(() => 1), ...keptShape] : keptShape;
    return { dataId: product.dataId, shape: outShape, dtype: 'float32' };
  };
  return replacingStock(kernelName, kernelFunc as unknown as tf.KernelFunc);
}
