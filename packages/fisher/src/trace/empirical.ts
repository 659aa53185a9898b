import type { tf } from '@fisherlab/engine';
import type { TraceAccumulator } from './accumulate.js';
import { forEachBatch } from './batches.js';
import { perExampleSquaredGradNorms } from './per-example.js';
import type { ModelWalker } from './walker.js';

/**
 * The EMPIRICAL Fisher's trace, E_x ‖g(x, y)‖² at the TRUE labels y: not Tr(F) (which draws ŷ from
 * the model), but a different quantity that is often reported in its place. One backward pass per
 * batch with the layer cells, like 'mc'.
 */
export function empiricalFisherTrace(
  walker: ModelWalker,
  x: tf.Tensor,
  labels: Int32Array,
  batchSize: number,
  into: TraceAccumulator,
): void {
  forEachBatch(x, labels, batchSize, (xBatch, labelsBatch) => {
    into.add(perExampleSquaredGradNorms(walker, xBatch, labelsBatch!).perLayer);
  });
}
