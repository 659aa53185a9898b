import * as tf from '@tensorflow/tfjs';
import { reducedAxisBlock } from '../wasm/leading-axes-reduction.js';
import { floatsOf, makeFloatOutput, nativeAddon, runReplacedKernel } from './native-backend.js';

/**
 * Sum and Mean over one contiguous block of axes with kept axes after it, on the native tier: the
 * leading axes (bias gradients and batch-norm statistics reduce over [N, H, W]) or a middle block
 * (Tr(F)'s per-example sums over positions, [B, P, C] over P). With X = x as [outer, rows, cols]:
 *   sum[o, c] = Σ_{i<rows} X[o, i, c],   mean[o, c] = sum[o, c] / rows
 * accumulated in float64 on OpenMP threads. Other reductions and dtypes go to the wasm kernel.
 */
export function nativeLeadingAxesReduction(kernelName: typeof tf.Sum | typeof tf.Mean): tf.KernelConfig {
  const kernelFunc = (args: {
    inputs: tf.NamedTensorInfoMap;
    backend: tf.KernelBackend;
    attrs: tf.NamedAttrMap;
  }): tf.TensorInfo => {
    const { backend } = args;
    const x = args.inputs['x'] as tf.TensorInfo;
    const block = reducedAxisBlock(x, args.attrs as unknown as tf.SumAttrs);
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

export const nativeSumConfig = nativeLeadingAxesReduction(tf.Sum);
export const nativeMeanConfig = nativeLeadingAxesReduction(tf.Mean);
