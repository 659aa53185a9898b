import * as tf from '@tensorflow/tfjs';
import { replacingStock } from './matmul-without-transposes.js';
import { type BackendWasm, heapFloat32, stockWasmKernel } from './wasm-backend.js';

/**
 * A reduction over one contiguous block of axes followed by at least one kept axis, seen as
 * x [outer, rows, cols] reduced over rows: the leading axes (bias gradients reduce dy over
 * [N, H, W], batch-norm statistics over the same axes: outer = 1) or a middle block (Tr(F)'s
 * per-example sums over positions, [B, P, C] over P). Undefined for anything else (the last axis
 * reduced, axes not contiguous, nothing kept, non-float32).
 */
export interface AxisBlock {
  outer: number;
  rows: number;
  cols: number;
  outShape: number[];
}

export function reducedAxisBlock(x: tf.TensorInfo, attrs: tf.SumAttrs): AxisBlock | undefined {
  const axes = tf.util.parseAxisParam(attrs.axis, x.shape).sort((a, b) => a - b);
  const first = axes[0];
  const last = axes[axes.length - 1];
  if (first === undefined || last === undefined || x.dtype !== 'float32') return undefined;
  if (!axes.every((a, i) => a === first + i) || last >= x.shape.length - 1) return undefined;
  if (x.shape.some((d) => d === 0)) return undefined;
  const size = (dims: number[]) => dims.reduce((p, d) => p * d, 1);
  const outShape = attrs.keepDims
    ? x.shape.map((d, i) => (i >= first && i <= last ? 1 : d))
    : x.shape.filter((_, i) => i < first || i > last);
  return {
    outer: size(x.shape.slice(0, first)),
    rows: size(x.shape.slice(first, last + 1)),
    cols: size(x.shape.slice(last + 1)),
    outShape,
  };
}

/**
 * Sum and Mean on wasm over such a block. Stock wasm transposes the reduced axes to the end first.
 * One contiguous pass per block computes
 *   sum[o, c] = Σ_{i<rows} X[o, i, c],   mean[o, c] = sum[o, c] / rows
 * accumulating in float64. (A product 1ᵀ·X on XNNPACK looked faster on a reused tensor, but it
 * repacks X as weights on every fresh tensor and was not faster in a training step.)
 * Other reductions go to the stock kernel.
 */
export function leadingAxesReduction(kernelName: typeof tf.Sum | typeof tf.Mean): tf.KernelConfig {
  const kernelFunc = (args: {
    inputs: tf.NamedTensorInfoMap;
    backend: tf.KernelBackend;
    attrs: tf.NamedAttrMap;
  }) => {
    const backend = args.backend as BackendWasm;
    const x = args.inputs['x'] as tf.TensorInfo;
    const block = reducedAxisBlock(x, args.attrs as unknown as tf.SumAttrs);
    if (!block) return stockWasmKernel(kernelName).kernelFunc(args);
    const { outer, rows, cols } = block;
    const out = backend.makeOutput(block.outShape, 'float32');
    const input = heapFloat32(backend, x);
    const result = heapFloat32(backend, out);
    const scale = kernelName === tf.Mean ? 1 / rows : 1;
    // Column sums in float64 (one pass over contiguous rows), rounded once to float32.
    const totals = new Float64Array(cols);
    for (let o = 0, at = 0; o < outer; o++) {
      totals.fill(0);
      for (let row = 0; row < rows; row++) {
        for (let c = 0; c < cols; c++, at++) totals[c] = (totals[c] as number) + (input[at] as number);
      }
      for (let c = 0; c < cols; c++) result[o * cols + c] = (totals[c] as number) * scale;
    }
    return out;
  };
  return replacingStock(kernelName, kernelFunc as unknown as tf.KernelFunc);
}
