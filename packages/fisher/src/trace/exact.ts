import type { tf } from '@fisherlab/engine';
import type { TraceAccumulator } from './accumulate.js';
import { forEachBatch } from './batches.js';
import { perExampleSquaredGradNorms } from './per-example.js';
import type { ModelWalker } from './walker.js';

/**
 * Exact over classes, per example: Tr F(x) = Σ_c p(c|x) ‖g(x, c)‖², g(x, c) = ∇θ −log p(c|x).
 * One backward pass per class per batch (per-example norms from the layer cells), so C passes per
 * batch; no sampling noise, the standard error is the spread of Tr F(x) over the examples.
 */
export function exactTrace(
  walker: ModelWalker,
  x: tf.Tensor,
  batchSize: number,
  into: TraceAccumulator,
): void {
  forEachBatch(x, undefined, batchSize, (xBatch) => {
    const batch = xBatch.shape[0]!;
    const weighted = new Map<string, Float64Array>();
    const first = perExampleSquaredGradNorms(walker, xBatch, new Int32Array(batch).fill(0));
    const { probabilities, classes } = first;
    for (let c = 0; c < classes; c++) {
      const norms =
        c === 0 ? first : perExampleSquaredGradNorms(walker, xBatch, new Int32Array(batch).fill(c));
      for (const [name, values] of norms.perLayer) {
        let sum = weighted.get(name);
        if (!sum) {
          sum = new Float64Array(batch);
          weighted.set(name, sum);
        }
        for (let i = 0; i < batch; i++) sum[i]! += probabilities[i * classes + c]! * values[i]!;
      }
    }
    into.add(weighted);
  });
}
