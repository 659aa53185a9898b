import { InputError } from '@fisherlab/core';
import type { tf } from '@fisherlab/engine';

/** What train() checks a model against: the data's image shape and class count. */
export interface DataShape {
  inputShape: readonly number[];
  numClasses: number;
}

/**
 * Refuses, before training starts, a model that does not fit the data: an output width other than
 * the dataset's class count (fewer outputs would train on labels the model cannot express, more
 * would leave classes no example has), or an input shape other than the images'. `key` is the spec
 * key or option that chose the model.
 */
export function checkModelFitsData(model: tf.LayersModel, data: DataShape, key: string): void {
  const output = model.outputs[0]?.shape ?? [];
  if (output[1] !== data.numClasses) {
    throw new InputError({
      where: 'train()',
      key,
      expected: `a model with ${data.numClasses} outputs (the dataset's classes)`,
      found: `a model with ${output[1]} outputs (output shape [${output.map((d) => d ?? 'batch')}])`,
      fix: 'build the last layer with numClasses units (the model factory receives numClasses), or pick a dataset with that many classes',
    });
  }
  const input = model.inputs[0]?.shape ?? [];
  const fits =
    input.length === data.inputShape.length + 1 &&
    data.inputShape.every((d, i) => input[i + 1] === null || input[i + 1] === d);
  if (!fits) {
    throw new InputError({
      where: 'train()',
      key,
      expected: `a model whose input is [batch, ${data.inputShape.join(', ')}] (the dataset's images)`,
      found: `input shape [${input.map((d) => d ?? 'batch')}]`,
      fix: 'build the model with the inputShape the factory receives (add a flatten layer first for a dense model)',
    });
  }
}

/**
 * Runs a model factory with Math.random drawing from `seed`'s stream, so the initializers tfjs
 * seeds from Math.random when none is given (every tf.initializers.* without `seed`) give the same
 * weights on every run: train()'s spec.seed then seeds a caller's model too. A factory that draws
 * its own randomness elsewhere must seed it from the `seed` it receives.
 */
export function withSeededMathRandom<T>(uniform: () => number, build: () => T): T {
  const original = Math.random;
  Math.random = uniform;
  try {
    const built = build();
    if (built instanceof Promise) {
      throw new InputError({
        where: 'train()',
        key: 'options.model',
        expected: 'a function that returns a tf.LayersModel',
        found: 'a function that returns a Promise',
        fix: 'build the model synchronously (load weights afterwards, or pass a model factory that does not await)',
      });
    }
    return built;
  } finally {
    Math.random = original;
  }
}
