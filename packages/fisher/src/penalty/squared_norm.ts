import type { tf } from '@fisherlab/engine';

/**
 * Σ over the tensors of Σᵢ xᵢ², accumulated in float64 on the CPU. A float32 sum over the millions
 * of weights of a real network drifts (measured 1.5e-3 relative low on VGG-11 on wasm); this is the
 * value the penalty logs. The gradient still comes from the float32 graph, whose rounding is
 * relative per element and does not accumulate the same way.
 */
export function squaredNormFloat64(tensors: readonly tf.Tensor[]): number {
  let total = 0;
  for (const tensor of tensors) {
    const values = tensor.dataSync();
    for (let i = 0; i < values.length; i++) {
      const x = values[i] as number;
      total += x * x;
    }
  }
  return total;
}
