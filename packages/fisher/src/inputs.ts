import { firstNonFinite, InputError, NonFiniteError } from '@fisherlab/core';
import { tf } from '@fisherlab/engine';

/** Class labels as any array type or tensor: integral values in [0, classes). */
export type ClassLabels = tf.Tensor | ArrayLike<number>;

/** Labels checked against a model and a batch: an int32 tensor (owned: the caller disposes it) and its values. */
export interface CheckedLabels {
  tensor: tf.Tensor1D;
  values: Int32Array;
  /** Disposes the tensor when it was made here (not when the caller's int32 tensor was used as is). */
  dispose(): void;
}

/** C, the width of a logits model's output [batch, C]. */
export function outputClasses(model: tf.LayersModel): number {
  return model.outputs[0]?.shape[1] as number;
}

const shapeText = (shape: readonly (number | null)[]): string =>
  `[${shape.map((d) => (d === null ? 'batch' : d)).join(', ')}]`;

/**
 * Refuses an input batch the model cannot take, before any kernel runs: not a tensor, no examples,
 * a shape other than the model's input shape, and (when `finite`) a NaN or ±Infinity anywhere,
 * named by its flat index and its example. Cost: one read of x and one pass over it when `finite`.
 */
export function checkInputBatch(
  model: tf.LayersModel,
  x: tf.Tensor,
  where: string,
  options: { key?: string; finite?: boolean } = {},
): void {
  const key = options.key ?? 'x';
  if (!(x instanceof tf.Tensor)) {
    throw new InputError({
      where,
      key,
      expected: 'a tf.Tensor with the example axis first',
      found: x === null ? 'null' : typeof x,
      fix: 'wrap the batch in a tensor (tf.tensor4d(images, [n, height, width, channels]))',
    });
  }
  const expected = model.inputs[0]?.shape ?? [];
  if (x.rank === 0 || x.shape[0] === 0) {
    throw new InputError({
      where,
      key,
      expected: `a batch of at least one example, shape ${shapeText(expected)}`,
      found: `shape [${x.shape}]`,
      fix: 'pass a non-empty batch (a data pipeline ended early, or a subset is empty)',
    });
  }
  const fits =
    x.rank === expected.length && expected.every((d, i) => i === 0 || d === null || d === x.shape[i]);
  if (!fits) {
    throw new InputError({
      where,
      key,
      expected: `shape ${shapeText(expected)} (the model's input)`,
      found: `shape [${x.shape}]`,
      fix:
        "reshape the batch to the model's input (e.g. images as [n, height, width, channels]), or build the model " +
        'for this data (its inputShape)',
    });
  }
  if (options.finite !== false && x.dtype === 'float32') {
    const values = x.dataSync();
    const bad = firstNonFinite(values);
    if (bad >= 0) {
      const perExample = values.length / (x.shape[0] as number);
      throw new InputError({
        where,
        key,
        expected: 'finite values',
        found: `${values[bad]} at flat index ${bad} (example ${Math.floor(bad / perExample)})`,
        fix: 'clean or re-normalize the data (a NaN pixel, or a division by a zero standard deviation)',
        index: bad,
      });
    }
  }
}

function labelValues(labels: ClassLabels, where: string, key: string): ArrayLike<number> {
  if (labels instanceof tf.Tensor) {
    if (labels.rank !== 1) {
      throw new InputError({
        where,
        key,
        expected: 'one class index per example (a 1-D tensor or array)',
        found: `a tensor of shape [${labels.shape}]`,
        fix: 'pass class indices, not one-hot rows: tf.argMax(oneHot, 1)',
      });
    }
    return labels.dataSync() as ArrayLike<number>;
  }
  if (labels === null || typeof labels !== 'object' || typeof labels.length !== 'number') {
    throw new InputError({
      where,
      key,
      expected: 'class indices as a tf.Tensor1D, Int32Array, Float32Array or number[]',
      found: labels === null ? 'null' : typeof labels,
      fix: 'pass one integer class index per example',
    });
  }
  return labels;
}

/**
 * Class labels for `batch` examples of a model with C outputs, from any array type or tensor: each
 * must be an integer in [0, C). A label ≥ C would otherwise give a one-hot row of zeros and a loss
 * of 0 without any error. Returns them as an int32 tensor (the caller's own int32 tensor when it
 * was one) and as values.
 */
export function checkClassLabels(
  model: tf.LayersModel,
  labels: ClassLabels,
  batch: number,
  where: string,
  key = 'labels',
): CheckedLabels {
  const values = labelValues(labels, where, key);
  if (values.length !== batch) {
    throw new InputError({
      where,
      key,
      expected: `one label per example (${batch})`,
      found: `${values.length} labels`,
      fix: 'pass labels aligned with the inputs (same order, same count)',
    });
  }
  const classes = outputClasses(model);
  for (let i = 0; i < values.length; i++) {
    const y = values[i] as number;
    if (!Number.isInteger(y) || y < 0 || y >= classes) {
      throw new InputError({
        where,
        key,
        expected: `integer class indices in [0, ${classes}) (the model has ${classes} outputs)`,
        found: `${y} at index ${i}`,
        fix: Number.isInteger(y)
          ? `map the labels to 0..${classes - 1}, or build the model with as many outputs as the data has classes`
          : 'pass integer class indices, not probabilities or one-hot rows',
        index: i,
      });
    }
  }
  if (labels instanceof tf.Tensor && labels.dtype === 'int32') {
    return { tensor: labels as tf.Tensor1D, values: Int32Array.from(values), dispose: () => {} };
  }
  const int = Int32Array.from(values);
  const tensor = tf.tensor1d(int, 'int32');
  return { tensor, values: int, dispose: () => tensor.dispose() };
}

/** Throws NonFiniteError when a computed scalar (a loss, a penalty, a trace) is NaN or ±Infinity. */
export function checkFiniteScalar(name: string, value: number | null, where: string, fix: string): void {
  if (value !== null && !Number.isFinite(value)) throw new NonFiniteError(name, 0, value, where, fix);
}
