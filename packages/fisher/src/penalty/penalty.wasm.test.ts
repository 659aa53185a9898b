import { initBackend, tf } from '@fisherlab/engine';
import { beforeAll, describe, expect, it } from 'vitest';
import { lossGradient } from '../hvp/exact.js';
import { FisherPenalty } from './fisher_penalty.js';
import { penaltyAgainstFiniteDifferences } from './fixtures/penalty_cases.js';
import { penaltyValueAndGradient } from './penalty.js';

// The same check on the wasm backend, where FisherLab's own kernels (Conv2DBackpropFilter,
// Conv2DBackpropInput, MaxPoolGrad, AvgPoolGrad) run under the second-order gradients.
beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});

describe(
  'penaltyValueAndGradient on wasm against finite differences of the penalty value',
  penaltyAgainstFiniteDifferences,
);

describe('the logged penalty value on wasm, against a float64 reference', () => {
  it('sums ‖ḡ‖² over a million weights in float64', () => {
    // 1,059,850 weights: enough for a float32 sum on the device to drift measurably.
    const model = tf.sequential({
      layers: [
        tf.layers.dense({
          inputShape: [1024],
          units: 1024,
          activation: 'tanh',
          kernelInitializer: tf.initializers.glorotUniform({ seed: 11 }),
        }),
        tf.layers.dense({ units: 10, kernelInitializer: tf.initializers.glorotUniform({ seed: 12 }) }),
      ],
    });
    const x = tf.randomNormal([16, 1024], 0, 1, 'float32', 13);
    const labels = tf.tensor1d(
      Array.from({ length: 16 }, (_, i) => (i * 7) % 10),
      'int32',
    );
    // Reference: ḡ from a first-order backward pass (no double backprop), squared and summed in float64.
    const gBar = lossGradient(model, { x, labels }, { training: true });
    let reference = 0;
    for (const g of gBar) for (const value of g.dataSync()) reference += value * value;

    const { value, grads } = penaltyValueAndGradient(model, x, labels);
    expect(Math.abs(value - reference) / reference).toBeLessThan(1e-6);
    const step = new FisherPenalty({ kind: 'gradnorm', alpha: 0.1 }).step(model, x, labels, 0);
    expect(Math.abs((step.penalty ?? Number.NaN) - reference) / reference).toBeLessThan(1e-6);
    tf.dispose([...gBar, ...grads, ...step.grads, x, labels]);
    model.dispose();
  });
});
