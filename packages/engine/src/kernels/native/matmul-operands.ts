import * as tf from '@tensorflow/tfjs';
import { disposeOutput, floatsOf, makeFloatOutput, nativeAddon } from './native-backend.js';

/**
 * The batched products the addon computes: float32 operands of rank ≥ 2 whose batch dimensions
 * (all but the last two) are equal, or one side's batch is a single matrix (broadcast).
 * Returns the output, or undefined when the case is not covered or oneDNN has no safe
 * implementation for it (the caller delegates).
 */
export function nativeMatMul(
  backend: tf.KernelBackend,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  attrs: { transposeA: boolean; transposeB: boolean },
  epilogue: { bias?: tf.TensorInfo; relu: boolean } = { relu: false },
): tf.TensorInfo | undefined {
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2 || b.shape.length < 2)
    return undefined;
  const outerA = a.shape.slice(0, -2);
  const outerB = b.shape.slice(0, -2);
  const batchA = tf.util.sizeFromShape(outerA);
  const batchB = tf.util.sizeFromShape(outerB);
  const sameBatch = batchA === batchB && tf.util.arraysEqual(outerA, outerB);
  if (!sameBatch && batchA !== 1 && batchB !== 1) return undefined;
  const [aRows, aCols] = a.shape.slice(-2) as [number, number];
  const [bRows, bCols] = b.shape.slice(-2) as [number, number];
  const m = attrs.transposeA ? aCols : aRows;
  const k = attrs.transposeA ? aRows : aCols;
  const n = attrs.transposeB ? bRows : bCols;
  const kB = attrs.transposeB ? bCols : bRows;
  if (k !== kB) {
    throw new Error(
      `MatMul: inner dimensions differ (${k} and ${kB}) for shapes [${a.shape}] and [${b.shape}]`,
    );
  }
  if (m === 0 || n === 0 || k === 0 || batchA === 0 || batchB === 0) return undefined;
  const { bias } = epilogue;
  if (bias && (bias.dtype !== 'float32' || tf.util.sizeFromShape(bias.shape) !== n)) return undefined;
  const outer = tf.backend_util.assertAndGetBroadcastShape(outerA, outerB);
  const c = makeFloatOutput(backend, [...outer, m, n]);
  const computed = nativeAddon().matmul(
    batchA,
    batchB,
    m,
    n,
    k,
    attrs.transposeA,
    attrs.transposeB,
    floatsOf(backend, a),
    floatsOf(backend, b),
    bias ? floatsOf(backend, bias) : null,
    epilogue.relu,
    floatsOf(backend, c),
  );
  if (!computed) {
    disposeOutput(backend, c);
    return undefined;
  }
  return c;
}
