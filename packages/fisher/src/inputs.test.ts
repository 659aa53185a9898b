import { InputError, NonFiniteError } from '@fisherlab/core';
import { initBackend, tf } from '@fisherlab/engine';
import { beforeAll, describe, expect, it } from 'vitest';
import { FisherPenalty } from './penalty/fisher_penalty.js';
import { penaltyValueAndGradient } from './penalty/penalty.js';
import { estimateFisherTrace } from './trace/estimate.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

const CLASSES = 10;
const mlp = (): tf.LayersModel =>
  tf.sequential({
    layers: [
      tf.layers.flatten({ inputShape: [4, 4, 1] }),
      tf.layers.dense({
        units: 8,
        activation: 'tanh',
        kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
      }),
      tf.layers.dense({ units: CLASSES, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
    ],
  });
const batch = (n = 6) => tf.randomNormal([n, 4, 4, 1], 0, 1, 'float32', 3);
const labelsOf = (n = 6) => Array.from({ length: n }, (_, i) => i % CLASSES);

/** The InputError `body` throws (fails the test when it throws nothing or something else). */
function inputError(body: () => unknown): InputError {
  try {
    body();
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return error as InputError;
  }
  throw new Error('expected an InputError, nothing was thrown');
}

describe('FisherPenalty.step refuses bad input before any kernel runs', () => {
  const penalty = new FisherPenalty({ kind: 'fisher', alpha: 0.1 });

  it('a label equal to the number of classes (10 of 10) is refused, naming the index; it no longer gives loss 0', () => {
    const model = mlp();
    const labels = labelsOf();
    labels[4] = CLASSES;
    const error = inputError(() => penalty.step(model, batch(), tf.tensor1d(labels, 'int32'), 0));
    expect(error.key).toBe('labels');
    expect(error.index).toBe(4);
    expect(error.message).toMatch(/\[0, 10\).*10 at index 4/);
    model.dispose();
  });

  it('labels as Float32Array, Int32Array, number[] and float32/int32 tensors give the same step', () => {
    const model = mlp();
    const x = batch();
    const values = labelsOf();
    const forms = [
      Int32Array.from(values),
      Float32Array.from(values),
      values,
      tf.tensor1d(values, 'int32'),
      tf.tensor1d(values, 'float32'),
    ];
    const losses = forms.map((labels) => {
      const result = penalty.step(model, x, labels, 0);
      tf.dispose(result.grads);
      return [result.loss, result.penalty];
    });
    for (const l of losses) expect(l).toEqual(losses[0]);
    model.dispose();
  });

  it('non-integer labels are refused with the index of the first one', () => {
    const model = mlp();
    const labels = Float32Array.from(labelsOf());
    labels[2] = 0.5;
    const error = inputError(() => penalty.step(model, batch(), labels, 0));
    expect(error.index).toBe(2);
    expect(error.fix).toMatch(/integer class indices/);
    model.dispose();
  });

  it('one-hot labels and a label count that does not match the batch are refused', () => {
    const model = mlp();
    const oneHot = tf.oneHot(tf.tensor1d(labelsOf(), 'int32'), CLASSES);
    expect(inputError(() => penalty.step(model, batch(), oneHot, 0)).fix).toMatch(/argMax/);
    expect(inputError(() => penalty.step(model, batch(), labelsOf(5), 0)).found).toBe('5 labels');
    model.dispose();
  });

  it('an empty batch is refused', () => {
    const model = mlp();
    const error = inputError(() => penalty.step(model, tf.zeros([0, 4, 4, 1]), [], 0));
    expect(error.expected).toMatch(/at least one example/);
    model.dispose();
  });

  it("an input shape other than the model's is refused, naming both shapes", () => {
    const model = mlp();
    const error = inputError(() => penalty.step(model, tf.zeros([6, 5, 5, 1]), labelsOf(), 0));
    expect(error.expected).toBe("shape [batch, 4, 4, 1] (the model's input)");
    expect(error.found).toBe('shape [6,5,5,1]');
    model.dispose();
  });

  it('a NaN pixel is refused, naming the flat index and the example', () => {
    const model = mlp();
    const values = batch().dataSync().slice();
    values[16 * 3 + 5] = Number.NaN;
    const error = inputError(() => penalty.step(model, tf.tensor4d(values, [6, 4, 4, 1]), labelsOf(), 0));
    expect(error.key).toBe('x');
    expect(error.index).toBe(53);
    expect(error.found).toBe('NaN at flat index 53 (example 3)');
    model.dispose();
  });

  it('with checkFinite: false the scan is skipped and the NaN comes back as a number', () => {
    const model = mlp();
    const values = batch().dataSync().slice();
    values[0] = Number.NaN;
    const unchecked = new FisherPenalty({ kind: 'fisher', alpha: 0.1, checkFinite: false });
    const result = unchecked.step(model, tf.tensor4d(values, [6, 4, 4, 1]), labelsOf(), 0);
    expect(result.loss).toBeNaN();
    tf.dispose(result.grads);
    model.dispose();
  });

  it('a loss that overflows throws NonFiniteError naming the loss', () => {
    const model = mlp();
    model.setWeights(model.getWeights().map((w) => tf.fill(w.shape, 3e38)));
    try {
      penalty.step(model, batch(), labelsOf(), 0);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(NonFiniteError);
      expect((error as NonFiniteError).tensor).toMatch(/loss|penalty/);
    }
    model.dispose();
  });

  it('the step index is required (plain JS callers that leave it out get an error, not a silent plain step)', () => {
    const model = mlp();
    const step = penalty.step as (m: tf.LayersModel, x: tf.Tensor, y: number[]) => unknown;
    const error = inputError(() => step.call(penalty, model, batch(), labelsOf()));
    expect(error.key).toBe('step');
    expect(error.found).toBe('undefined');
    model.dispose();
  });

  it('a layer without checked second derivatives is refused under the exact method, naming the layer and the finite-difference method', () => {
    const model = tf.sequential({
      layers: [
        tf.layers.reshape({ inputShape: [4, 4, 1], targetShape: [4, 4] }),
        tf.layers.simpleRNN({ units: 4, name: 'my_rnn' }),
        tf.layers.dense({ units: CLASSES }),
      ],
    });
    const error = inputError(() => penalty.step(model, batch(), labelsOf(), 0));
    expect(error.found).toBe("layer 'my_rnn' of class SimpleRNN");
    expect(error.fix).toMatch(/method 'finite-difference'/);
    const fd = new FisherPenalty({ kind: 'fisher', alpha: 0.1, method: 'finite-difference' });
    const result = fd.step(model, batch(), labelsOf(), 0);
    expect(Number.isFinite(result.penalty)).toBe(true);
    tf.dispose(result.grads);
    model.dispose();
  });

  it('a depthwise convolution runs under the exact method', () => {
    const model = tf.sequential({
      layers: [
        tf.layers.depthwiseConv2d({
          inputShape: [4, 4, 1],
          kernelSize: 3,
          depthMultiplier: 2,
          activation: 'relu',
        }),
        tf.layers.flatten(),
        tf.layers.dense({ units: CLASSES }),
      ],
    });
    const result = penalty.step(model, batch(), labelsOf(), 0);
    expect(result.penalty).toBeGreaterThan(0);
    tf.dispose(result.grads);
    model.dispose();
  });

  it('penaltyValueAndGradient runs the same checks', () => {
    const model = mlp();
    expect(inputError(() => penaltyValueAndGradient(model, batch(), [0, 1, 2, 3, 4, 11])).index).toBe(5);
    model.dispose();
  });
});

describe('estimateFisherTrace refuses bad input', () => {
  it('a NaN input is refused naming data.x and its index; a wrong shape names both shapes', () => {
    const model = mlp();
    const values = batch().dataSync().slice();
    values[20] = Number.POSITIVE_INFINITY;
    const x = tf.tensor4d(values, [6, 4, 4, 1]);
    const error = inputError(() => estimateFisherTrace(model, { x }, { estimator: 'mc' }));
    expect(error.key).toBe('data.x');
    expect(error.index).toBe(20);
    expect(
      inputError(() => estimateFisherTrace(model, { x: tf.zeros([6, 16]) }, { estimator: 'exact' })).found,
    ).toBe('shape [6,16]');
    model.dispose();
  });

  it("empirical: labels of any array type, range-checked against the model's classes", () => {
    const model = mlp();
    const x = batch();
    const a = estimateFisherTrace(
      model,
      { x, labels: Float32Array.from(labelsOf()) },
      { estimator: 'empirical' },
    );
    const b = estimateFisherTrace(model, { x, labels: labelsOf() }, { estimator: 'empirical' });
    expect(a.value).toBe(b.value);
    const bad = labelsOf();
    bad[1] = CLASSES;
    expect(
      inputError(() => estimateFisherTrace(model, { x, labels: bad }, { estimator: 'empirical' })).index,
    ).toBe(1);
    model.dispose();
  });

  it('a Tr(F) that overflows throws NonFiniteError naming Tr(F)', () => {
    const model = mlp();
    model.setWeights(model.getWeights().map((w) => tf.fill(w.shape, 3e38)));
    expect(() => estimateFisherTrace(model, { x: batch() }, { estimator: 'exact' })).toThrow(NonFiniteError);
    const unchecked = estimateFisherTrace(model, { x: batch() }, { estimator: 'exact', checkFinite: false });
    expect(Number.isFinite(unchecked.value)).toBe(false);
    model.dispose();
  });
});
