import { tf } from '@fisherlab/engine';
import type { CurvatureBatch, CurvatureData } from './types.js';

/**
 * One pass over the data: calls `visit` on each batch in order and returns the number of examples.
 * Refuses an empty pass (a one-shot generator already used up, or no data) with the fix.
 */
export async function forEachBatch(
  data: CurvatureData,
  where: string,
  visit: (batch: CurvatureBatch, index: number) => void | Promise<void>,
): Promise<number> {
  let examples = 0;
  let index = 0;
  for await (const batch of data as AsyncIterable<CurvatureBatch>) {
    const size = batch.x.shape[0] ?? 0;
    if (batch.x.rank < 2 || size === 0) {
      throw new Error(
        `${where}: batch ${index} has x of shape [${batch.x.shape}]; each batch needs x of shape [examples, ...features] with at least one example`,
      );
    }
    if (batch.labels !== undefined && batch.labels.shape[0] !== size) {
      throw new Error(
        `${where}: batch ${index} has ${size} inputs but ${batch.labels.shape[0]} labels; pass one label (or target row) per example`,
      );
    }
    await visit(batch, index);
    examples += size;
    index++;
  }
  if (examples === 0) {
    throw new Error(
      `${where}: the data gave no examples. Every product is a new pass, so pass data that can be iterated again ` +
        '(an array of batches, batchesOf(...), or { [Symbol.asyncIterator]: () => yourGenerator() }), not a generator object that is used up after one pass',
    );
  }
  return examples;
}

/**
 * Re-iterable batches of at most `batchSize` examples sliced from in-memory tensors. The slices are
 * made as a pass reaches them and disposed when the next is requested.
 */
export function batchesOf(
  data: { x: tf.Tensor; labels?: tf.Tensor },
  batchSize = 128,
): Iterable<CurvatureBatch> {
  const n = data.x.shape[0] ?? 0;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new Error(`batchesOf: batchSize must be a positive integer, found ${batchSize}; pass e.g. 128`);
  }
  return {
    *[Symbol.iterator]() {
      for (let start = 0; start < n; start += batchSize) {
        const size = Math.min(batchSize, n - start);
        if (start === 0 && size === n) {
          yield data;
          continue;
        }
        const batch: CurvatureBatch = { x: tf.slice(data.x, start, size) };
        if (data.labels) batch.labels = tf.slice(data.labels, start, size);
        try {
          yield batch;
        } finally {
          tf.dispose([batch.x, ...(batch.labels ? [batch.labels] : [])]);
        }
      }
    },
  };
}
