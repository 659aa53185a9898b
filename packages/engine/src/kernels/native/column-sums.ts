import * as tf from '@tensorflow/tfjs';
import { type BackendWasm, heapFloat32 } from '../wasm/wasm-backend.js';
import { nativeAddon, runReplacedKernel } from './native-backend.js';

/**
 * Sum and Mean over the leading axes (bias gradients and batch-norm statistics reduce over
 * [N, H, W]) on the native tier. With X = x as [rows, cols]:
 *   sum[c] = Σ_{i<rows} X[i, c],   mean[c] = sum[c] / rows
 * accumulated in float64 on OpenMP threads. Other axes and dtypes go to the wasm kernel.
 */
export function nativeLeadingAxesReduction(kernelName: typeof tf.Sum | typeof tf.Mean): tf.KernelConfig {
  const kernelFunc = (args: {
    inputs: tf.NamedTensorInfoMap;
    backend: tf.KernelBackend;
    attrs: tf.NamedAttrMap;
  }): tf.TensorInfo => {
    const backend = args.backend as BackendWasm;
    const x = args.inputs['x'] as tf.TensorInfo;
    const { axis, keepDims } = args.attrs as unknown as tf.SumAttrs;
    const axes = tf.util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
    const leading = axes.length > 0 && axes.length < x.shape.length && axes.every((a, i) => a === i);
    if (!leading || x.dtype !== 'float32' || x.shape.some((d) => d === 0)) {
      return runReplacedKernel(kernelName, args);
    }
    const rows = tf.util.sizeFromShape(x.shape.slice(0, axes.length));
    const keptShape = x.shape.slice(axes.length);
    const cols = tf.util.sizeFromShape(keptShape);
    const out = backend.makeOutput(keepDims ? [...axes.map(() => 1), ...keptShape] : keptShape, 'float32');
    const scale = kernelName === tf.Mean ? 1 / rows : 1;
    nativeAddon().columnSums(rows, cols, heapFloat32(backend, x), scale, heapFloat32(backend, out));
    return out;
  };
  return { kernelName, backendName: 'wasm', kernelFunc: kernelFunc as unknown as tf.KernelFunc };
}

export const nativeSumConfig = nativeLeadingAxesReduction(tf.Sum);
export const nativeMeanConfig = nativeLeadingAxesReduction(tf.Mean);
