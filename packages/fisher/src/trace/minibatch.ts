import { leanVariableGrads, tf } from '@fisherlab/engine';
import { sampleLabels, type Uniform } from '../labels.js';
import type { TraceAccumulator } from './accumulate.js';
import { forEachBatch } from './batches.js';
import { summedCrossEntropy } from './loss.js';

/**
 * Mini-batch, unbiased: B · ‖(1/B) Σᵢ g(xᵢ, ŷᵢ)‖² = ‖Σᵢ g(xᵢ, ŷᵢ)‖² / B per batch. Expanding,
 * E = (1/B) Σᵢ E‖gᵢ‖² + (1/B) Σ_{i≠j} E[gᵢ]ᵀE[gⱼ], and E_ŷ[g(x, ŷ)] = 0 for every x, so the cross
 * terms vanish: unbiased for the batch's mean Tr F(x), with one backward pass per batch (through
 * `model.apply(..., {training: false})`). Batches are weighted by their size; the standard error
 * is over batches.
 */
export function minibatchTrace(
  model: tf.LayersModel,
  x: tf.Tensor,
  batchSize: number,
  passes: number,
  uniform: Uniform,
  into: TraceAccumulator,
): void {
  const groups = model.layers
    .filter((l) => l.trainableWeights.length > 0)
    .map((layer) => ({
      name: layer.name,
      variables: layer.trainableWeights.map((w) => w.read() as tf.Variable),
    }));
  const variables = groups.flatMap((g) => g.variables);
  for (let pass = 0; pass < passes; pass++) {
    forEachBatch(x, undefined, batchSize, (xBatch) => {
      const batch = xBatch.shape[0]!;
      const squaredNorms = tf.tidy(() => {
        const { value, grads } = leanVariableGrads(() => {
          const logits = model.apply(xBatch, { training: false }) as tf.Tensor2D;
          const probabilities = tf.tidy(() => tf.softmax(logits).dataSync() as Float32Array);
          return summedCrossEntropy(logits, sampleLabels(probabilities, logits.shape[1], uniform));
        }, variables);
        value.dispose();
        return tf
          .stack(groups.map((g) => tf.addN(g.variables.map((v) => tf.sum(tf.square(grads[v.name]!))))))
          .dataSync();
      });
      into.add(new Map(groups.map((g, k) => [g.name, [squaredNorms[k]! / batch]])), [batch]);
    });
  }
}
