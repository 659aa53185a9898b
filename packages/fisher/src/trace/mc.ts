import type { tf } from '@fisherlab/engine';
import { sampleLabels, type Uniform } from '../labels.js';
import type { TraceAccumulator } from './accumulate.js';
import { forEachBatch } from './batches.js';
import { perExampleSquaredGradNorms } from './per-example.js';
import type { ModelWalker } from './walker.js';

/**
 * Monte Carlo per example: Tr F(x) ≈ (1/S) Σₛ ‖g(x, ŷₛ)‖², ŷₛ ∼ p(·|x) drawn from the logits of the
 * same forward pass. Per-example norms come from one backward pass per batch and draw (the layer
 * cells, BackPACK's BatchL2Grad trick), with a per-example loop only for layers no cell covers.
 */
export function monteCarloTrace(
  walker: ModelWalker,
  x: tf.Tensor,
  batchSize: number,
  samples: number,
  uniform: Uniform,
  into: TraceAccumulator,
): void {
  forEachBatch(x, undefined, batchSize, (xBatch) => {
    const batch = xBatch.shape[0]!;
    const averaged = new Map<string, Float64Array>();
    for (let s = 0; s < samples; s++) {
      const norms = perExampleSquaredGradNorms(walker, xBatch, (p, classes) =>
        sampleLabels(p, classes, uniform),
      );
      for (const [name, values] of norms.perLayer) {
        let mean = averaged.get(name);
        if (!mean) {
          mean = new Float64Array(batch);
          averaged.set(name, mean);
        }
        for (let i = 0; i < batch; i++) mean[i]! += values[i]! / samples;
      }
    }
    into.add(averaged);
  });
}
