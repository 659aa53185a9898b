import { initBackend, tf } from '@fisherlab/engine';
import { beforeAll, describe, expect, it } from 'vitest';
import { penaltyByFirstOrder, penaltyGradientErrors } from './fixtures/penalty_checks.js';
import { batchNormConv, reluMaxPoolConv } from './fixtures/tiny_models.js';
import { penaltyValueAndGradient } from './penalty.js';

// The same check on the wasm backend, where FisherLab's own kernels (Conv2DBackpropFilter,
// Conv2DBackpropInput, MaxPoolGrad, AvgPoolGrad) run under the second-order gradients.
beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});

describe('penaltyValueAndGradient on wasm against finite differences of the penalty value', () => {
  for (const [name, build] of [
    ['conv with relu + max pool', reluMaxPoolConv],
    ['conv with batch norm (training mode)', batchNormConv],
  ] as const) {
    it(name, () => {
      const c = build();
      const none = new Set<string>();
      const { value, grads } = penaltyValueAndGradient(c.model, c.x, c.labels);
      expect(value).toBeCloseTo(penaltyByFirstOrder(c, none), 5);
      const errors = penaltyGradientErrors(c, grads, none);
      expect(errors.alongGradient).toBeLessThan(1e-3);
      expect(errors.random).toBeLessThan(1e-3);
      tf.dispose(grads);
      c.model.dispose();
    });
  }
});
