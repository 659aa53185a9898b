import { tf } from '@fisherlab/engine';
import { beforeAll, describe, expect, it } from 'vitest';
import { estimateFisherTrace } from './estimate.js';
import {
  batchNormConvNet,
  randomImages,
  residualConvNet,
  smallConvNet,
  softmaxRegression,
} from './fixtures/models.js';
import type { TraceEstimate } from './types.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const expectLayersSumToTotal = (estimate: TraceEstimate) => {
  const sum = Object.values(estimate.perLayer).reduce((s, l) => s + l.value, 0);
  expect(Math.abs(sum - estimate.value)).toBeLessThanOrEqual(1e-9 * Math.abs(estimate.value));
};

/**
 * Softmax regression, logits z = W x + b, ℓ = −log softmax(z)_y. Then ∂ℓ/∂z = p − e_y, so
 * ∂ℓ/∂W = (p − e_y) xᵀ and ∂ℓ/∂b = p − e_y, hence ‖g(x, y)‖² = (‖x‖² + 1) ‖p − e_y‖².
 * Under y ∼ p: E‖p − e_y‖² = Σ_y p_y (‖p‖² − 2p_y + 1) = 1 − ‖p‖² = Σ_c p_c (1 − p_c), so
 * Tr F(x) = (‖x‖² + 1) Σ_c p_c (1 − p_c); the empirical version at label y is (‖x‖² + 1) ‖p − e_y‖².
 */
describe('Tr(F) of softmax regression against its closed form', () => {
  const features = 6;
  const classes = 4;
  const n = 120;
  let model: tf.Sequential;
  let x: tf.Tensor2D;
  let labels: Int32Array;
  let fisherPerExample: Float64Array;
  let empiricalPerExample: Float64Array;
  const mean = (v: Float64Array) => v.reduce((s, a) => s + a, 0) / v.length;

  beforeAll(() => {
    model = softmaxRegression(features, classes, 3);
    x = tf.randomNormal([n, features], 0, 0.7, 'float32', 4) as tf.Tensor2D;
    labels = Int32Array.from({ length: n }, (_, i) => (i * 7) % classes);
    const p = tf.tidy(() =>
      (tf.softmax(model.predict(x) as tf.Tensor2D).arraySync() as number[][]).map((r) => r),
    );
    const xs = x.arraySync();
    fisherPerExample = Float64Array.from(xs, (xi, i) => {
      const scale = xi.reduce((s, v) => s + v * v, 0) + 1;
      return scale * p[i]!.reduce((s, pc) => s + pc * (1 - pc), 0);
    });
    empiricalPerExample = Float64Array.from(xs, (xi, i) => {
      const scale = xi.reduce((s, v) => s + v * v, 0) + 1;
      return scale * p[i]!.reduce((s, pc, c) => s + (pc - (c === labels[i] ? 1 : 0)) ** 2, 0);
    });
  });

  it('exact matches to float precision, with per-layer values summing to the total and no leaks', () => {
    const before = tf.memory().numTensors;
    const estimate = estimateFisherTrace(model, { x }, { estimator: 'exact', batchSize: 32 });
    expect(tf.memory().numTensors).toBe(before);
    const truth = mean(fisherPerExample);
    expect(Math.abs(estimate.value - truth)).toBeLessThan(1e-5 * truth);
    expect(estimate.examples).toBe(n);
    expect(estimate.quantity).toBe('fisher');
    const sd = Math.sqrt(fisherPerExample.reduce((s, v) => s + (v - truth) ** 2, 0) / (n - 1));
    expect(estimate.standardError).toBeCloseTo(sd / Math.sqrt(n), 5);
    expectLayersSumToTotal(estimate);
  });

  it('mc agrees within 3.5 standard errors, and the same seed gives the same estimate', () => {
    const before = tf.memory().numTensors;
    const estimate = estimateFisherTrace(
      model,
      { x },
      { estimator: 'mc', batchSize: 32, seed: 7, samples: 4 },
    );
    expect(tf.memory().numTensors).toBe(before);
    expect(Math.abs(estimate.value - mean(fisherPerExample))).toBeLessThan(3.5 * estimate.standardError);
    expect(estimate.samples).toBe(4);
    expectLayersSumToTotal(estimate);
    const again = estimateFisherTrace(model, { x }, { estimator: 'mc', batchSize: 32, seed: 7, samples: 4 });
    expect(again.value).toBe(estimate.value);
  });

  it('minibatch agrees within 3.5 standard errors (over batches)', () => {
    const before = tf.memory().numTensors;
    const estimate = estimateFisherTrace(
      model,
      { x },
      { estimator: 'minibatch', batchSize: 8, seed: 2, samples: 25 },
    );
    expect(tf.memory().numTensors).toBe(before);
    expect(Math.abs(estimate.value - mean(fisherPerExample))).toBeLessThan(3.5 * estimate.standardError);
    expectLayersSumToTotal(estimate);
  });

  it('empirical matches its own closed form at the true labels, and says it is the empirical Fisher', () => {
    const estimate = estimateFisherTrace(model, { x, labels }, { estimator: 'empirical', batchSize: 50 });
    const truth = mean(empiricalPerExample);
    expect(Math.abs(estimate.value - truth)).toBeLessThan(1e-5 * truth);
    expect(estimate.quantity).toBe('empirical-fisher');
    const asTensor = tf.tensor1d(labels, 'int32');
    const fromTensor = estimateFisherTrace(model, { x, labels: asTensor }, { estimator: 'empirical' });
    expect(fromTensor.value).toBeCloseTo(estimate.value, 10);
    asTensor.dispose();
  });

  it('rejects bad input, naming the key, what it expected, what it found and the fix', () => {
    expect(() => estimateFisherTrace(model, { x }, { estimator: 'empirical' })).toThrow(
      /data\.labels: expected the true labels \(estimator 'empirical' needs them\), found none\. Fix: pass data\.labels/,
    );
    expect(() =>
      estimateFisherTrace(model, { x, labels: new Int32Array(3) }, { estimator: 'empirical' }),
    ).toThrow(/data\.labels: expected one label per example \(120\), found 3 labels/);
    const wrong = Int32Array.from(labels);
    wrong[5] = classes;
    expect(() => estimateFisherTrace(model, { x, labels: wrong }, { estimator: 'empirical' })).toThrow(
      /data\.labels: expected integer class indices in \[0, 4\) \(the model has 4 outputs\), found 4 at index 5/,
    );
    const fractional = tf.tensor1d(Array.from({ length: n }, (_, i) => (i === 7 ? 1.5 : 0)));
    expect(() => estimateFisherTrace(model, { x, labels: fractional }, { estimator: 'empirical' })).toThrow(
      /data\.labels: expected integer class indices in \[0, 4\).*, found 1\.5 at index 7/,
    );
    fractional.dispose();
    expect(() => estimateFisherTrace(model, { x }, { estimator: 'hutchinson' as 'mc' })).toThrow(
      /options\.estimator: expected one of exact, mc, minibatch, empirical, found "hutchinson"\. Fix:/,
    );
    expect(() => estimateFisherTrace(model, { x }, { estimator: 'mc', batchSize: 0 })).toThrow(
      /options\.batchSize: expected a positive integer, found 0\. Fix: pass e\.g\. 64/,
    );
  });
});

describe('Tr(F) of small conv nets: exact, mc and minibatch agree', () => {
  const cases: [string, () => tf.LayersModel, number[]][] = [
    ['conv + relu + maxpool + dropout', () => smallConvNet(5), [40, 8, 8, 3]],
    ['conv + batch norm', () => batchNormConvNet(5), [40, 6, 6, 2]],
    ['functional residual (add, concat, depthwise fallback)', () => residualConvNet(5), [40, 6, 6, 2]],
  ];
  for (const [name, build, shape] of cases) {
    it(name, () => {
      const model = build();
      const x = randomImages(shape, 9);
      const before = tf.memory().numTensors;
      const exact = estimateFisherTrace(model, { x }, { estimator: 'exact', batchSize: 16 });
      const mc = estimateFisherTrace(model, { x }, { estimator: 'mc', batchSize: 16, seed: 1, samples: 6 });
      const minibatch = estimateFisherTrace(
        model,
        { x },
        { estimator: 'minibatch', batchSize: 4, seed: 1, samples: 12 },
      );
      expect(tf.memory().numTensors).toBe(before);
      expect(exact.value).toBeGreaterThan(0);
      expect(Math.abs(mc.value - exact.value)).toBeLessThan(3.5 * mc.standardError);
      expect(Math.abs(minibatch.value - exact.value)).toBeLessThan(3.5 * minibatch.standardError);
      for (const estimate of [exact, mc, minibatch]) expectLayersSumToTotal(estimate);
      expect(Object.keys(mc.perLayer).sort()).toEqual(Object.keys(exact.perLayer).sort());
      x.dispose();
    });
  }
});
