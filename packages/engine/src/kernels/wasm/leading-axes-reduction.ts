import * as tf from '@tensorflow/tfjs';
import { replacingStock } from './matmul-without-transposes.js';
import { type BackendWasm, heapFloat32, stockWasmKernel } from './wasm-backend.js';

/**
 * Sum and Mean on wasm over the leading axes of a tensor (bias gradients reduce dy over
 * [N, H, W]; batch-norm statistics over the same axes). Stock wasm transposes the reduced axes to
 * the end first. With X = x as [rows, cols], one contiguous pass computes
 *   sum[c] = Σ_{i<rows} X[i, c],   mean[c] = sum[c] / rows
 * accumulating in float64. (A product 1ᵀ·X on XNNPACK looked faster on a reused tensor, but it
 * repacks X as weights on every fresh tensor and was not faster in a training step.)
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
    const out = backend.makeOutput(keepDims ? [...axes.map(() => 1), ...keptShape] : keptShape, 'float32');
    const input = heapFloat32(backend, x);
    // Column sums in float64 (one pass over contiguous rows), rounded once to float32.
    const totals = new Float64Array(cols);
    for (let row = 0, at = 0; row < rows; row++) {
      for (let c = 0; c < cols; c++, at++) totals[c] = (totals[c] as number) + (input[at] as number);
    }
    const scale = kernelName === tf.Mean ? 1 / rows : 1;
    const result = heapFloat32(backend, out);
    for (let c = 0; c < cols; c++) result[c] = (totals[c] as number) * scale;
    return out;
  };
  return replacingStock(kernelName, kernelFunc as unknown as tf.KernelFunc);
}
