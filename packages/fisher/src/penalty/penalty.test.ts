import { initBackend, tf } from '@fisherlab/engine';
import { beforeAll, describe, expect, it } from 'vitest';
import { batchNormVariableNames, trainableVariables } from '../hvp/parameters.js';
import { penaltyByFirstOrder, penaltyGradientErrors } from './fixtures/penalty_checks.js';
import {
  batchNormConv,
  depthwiseConv,
  reluMaxPoolConv,
  type TinyCase,
  tanhMlp,
} from './fixtures/tiny_models.js';
import { penaltyValueAndGradient } from './penalty.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

describe('penaltyValueAndGradient: ∇‖ḡ‖² = 2Hḡ against finite differences of the penalty value', () => {
  const cases: [string, () => TinyCase, boolean][] = [
    ['MLP with tanh', tanhMlp, false],
    ['conv with relu + max pool', reluMaxPoolConv, false],
    ['conv with batch norm', batchNormConv, false],
    ['depthwise and separable conv', depthwiseConv, false],
    ['conv with batch norm, BN weights excluded from the norm', batchNormConv, true],
  ];
  for (const [name, build, excludeBatchNorm] of cases) {
    it(name, () => {
      const c = build();
      const excluded = excludeBatchNorm ? batchNormVariableNames(c.model) : new Set<string>();
      const { value, grads } = penaltyValueAndGradient(c.model, c.x, c.labels, { excludeBatchNorm });
      expect(value).toBeCloseTo(penaltyByFirstOrder(c, excluded), 5);
      const errors = penaltyGradientErrors(c, grads, excluded);
      expect(errors.alongGradient).toBeLessThan(1e-3);
      expect(errors.random).toBeLessThan(1e-3);
      tf.dispose(grads);
      c.model.dispose();
    });
  }

  it('excluding batch norm drops gamma/beta gradients from the norm but still differentiates w.r.t. them', () => {
    const c = batchNormConv();
    const names = batchNormVariableNames(c.model);
    expect([...names].some((n) => /gamma/.test(n))).toBe(true);
    expect([...names].some((n) => /moving_mean/.test(n))).toBe(true);
    const all = penaltyValueAndGradient(c.model, c.x, c.labels);
    const noBn = penaltyValueAndGradient(c.model, c.x, c.labels, { excludeBatchNorm: true });
    expect(noBn.value).toBeLessThan(all.value);
    const gammaIndex = trainableVariables(c.model).findIndex((v) => /gamma/.test(v.name));
    expect(tf.norm(noBn.grads[gammaIndex]!).dataSync()[0]).toBeGreaterThan(0);
    tf.dispose([...all.grads, ...noBn.grads]);
  });
});
