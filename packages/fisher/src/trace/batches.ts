import { tf } from '@fisherlab/engine';

/** Calls `fn` on consecutive slices of at most `batchSize` examples (the last may be smaller), disposing each. */
export function forEachBatch(
  x: tf.Tensor,
  labels: Int32Array | undefined,
  batchSize: number,
  fn: (xBatch: tf.Tensor, labelsBatch: Int32Array | undefined) => void,
): void {
  const n = x.shape[0]!;
  for (let start = 0; start < n; start += batchSize) {
    const size = Math.min(batchSize, n - start);
    const xBatch = tf.slice(x, start, size);
    try {
      fn(xBatch, labels?.subarray(start, start + size));
    } finally {
      xBatch.dispose();
    }
  }
}
