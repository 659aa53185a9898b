import * as tf from '@tensorflow/tfjs';
import { type AxisBlock, reducedAxisBlock } from '../wasm/leading-axes-reduction.js';
import { floatsOf, makeFloatOutput, nativeAddon, runReplacedKernel } from './native-backend.js';

/**
 * Sum and Mean over one contiguous block of axes with kept axes after it, on the native tier: the
 * leading axes (bias gradients and batch-norm statistics reduce over [N, H, W]) or a middle block
 * (Tr(F)'s per-example sums over positions, [B, P, C] over P). With X = x as [outer, rows, cols]:
 *   sum[o, c] = Σ_{i<rows} X[o, i, c],   mean[o, c] = sum[o, c] / rows
 * accumulated in float64 on OpenMP threads; and the last axes (all of them for a full sum), as
 * cols = 1. Other reductions and dtypes go to the replaced kernel.
 */
export function nativeLeadingAxesReduction(kernelName: typeof tf.Sum | typeof tf.Mean): tf.KernelConfig {
  const kernelFunc = (args: {
    inputs: tf.NamedTensorInfoMap;
    backend: tf.KernelBackend;
    attrs: tf.NamedAttrMap;
  }): tf.TensorInfo => {
    const { backend } = args;
    const x = args.inputs['x'] as tf.TensorInfo;
    const attrs = args.attrs as unknown as tf.SumAttrs;
    const block = reducedAxisBlock(x, attrs) ?? trailingAxisBlock(x, attrs);
    if (!block) return runReplacedKernel(kernelName, args);
    const out = makeFloatOutput(backend, block.outShape);
    const scale = kernelName === tf.Mean ? 1 / block.rows : 1;
    nativeAddon().columnSums(
      block.outer,
      block.rows,
      block.cols,
      floatsOf(backend, x),
      scale,
      floatsOf(backend, out),
    );
    return out;
  };
  return { kernelName, backendName: 'wasm', kernelFunc: kernelFunc as unknown as tf.KernelFunc };
}

/**
 * The last axes reduced (all of them for a full sum) as [outer, rows, 1]: the penalty and the
 * optimizers sum whole weight tensors, which the cpu kernel does one JS addition at a time.
 */
function trailingAxisBlock(x: tf.TensorInfo, attrs: tf.SumAttrs): AxisBlock | undefined {
  const rank = x.shape.length;
  const axes = tf.util.parseAxisParam(attrs.axis, x.shape).sort((a, b) => a - b);
  const first = axes[0];
  if (first === undefined || x.dtype !== 'float32' || x.shape.some((d) => d === 0)) return undefined;
  if (!axes.every((a, i) => a === first + i) || axes[axes.length - 1] !== rank - 1) return undefined;
  const size = (dims: number[]) => dims.reduce((p, d) => p * d, 1);
  return {
    outer: size(x.shape.slice(0, first)),
    rows: size(x.shape.slice(first)),
    cols: 1,
    outShape: attrs.keepDims ? x.shape.map((d, i) => (i >= first ? 1 : d)) : x.shape.slice(0, first),
  };
}

export const nativeSumConfig = nativeLeadingAxesReduction(tf.Sum);
export const nativeMeanConfig = nativeLeadingAxesReduction(tf.Mean);
