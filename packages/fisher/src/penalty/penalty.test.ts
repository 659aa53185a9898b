import { initBackend, tf } from '@fisherlab/engine';
import { beforeAll, describe, expect, it } from 'vitest';
import { lossGradient } from '../hvp/exact.js';
import { batchNormVariableNames, dotAll, trainableVariables, withWeightsShifted } from '../hvp/parameters.js';
import {
  batchNormConv,
  reluMaxPoolConv,
  type TinyCase,
  tanhMlp,
  unitDirection,
} from './fixtures/tiny_models.js';
import { penaltyValueAndGradient } from './penalty.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

/**
 * The independent truth: P(θ) = ‖∇L̂(θ)‖² from FIRST-order gradients only (labels fixed, training
 * mode), differenced along a unit direction d: [P(θ+hd) − P(θ−hd)]/(2h), Richardson-extrapolated
 * (truncation O(h⁴)) with h = 1e-2, large enough that float32 roundoff in P (~1e-7 relative)
 * contributes ~1e-5. Smooth nets move all weights; relu + max-pool nets move the last layer only,
 * so no relu mask or pooling argmax flips inside the step (∇P·d still runs through every layer's
 * second-order path via the mixed derivatives).
 */
function penaltyByFirstOrder(c: TinyCase, excluded: Set<string>): number {
  const grads = lossGradient(c.model, { x: c.x, labels: c.labels }, { training: true });
  const vars = trainableVariables(c.model);
  const kept = grads.filter((_, i) => !excluded.has(vars[i]!.name));
  const value = dotAll(kept, kept);
  tf.dispose(grads);
  return value;
}

function directionalFd(c: TinyCase, d: tf.Tensor[], h: number, excluded: Set<string>): number {
  const central = (step: number) =>
    (withWeightsShifted(c.model, d, step, () => penaltyByFirstOrder(c, excluded)) -
      withWeightsShifted(c.model, d, -step, () => penaltyByFirstOrder(c, excluded))) /
    (2 * step);
  return (4 * central(h / 2) - central(h)) / 3;
}

describe('penaltyValueAndGradient: ∇‖ḡ‖² = 2Hḡ against finite differences of the penalty value', () => {
  const cases: [string, () => TinyCase, boolean][] = [
    ['MLP with tanh', tanhMlp, false],
    ['conv with relu + max pool', reluMaxPoolConv, false],
    ['conv with batch norm', batchNormConv, false],
    ['conv with batch norm, BN weights excluded from the norm', batchNormConv, true],
  ];
  for (const [name, build, excludeBatchNorm] of cases) {
    it(name, () => {
      const c = build();
      const excluded = excludeBatchNorm ? batchNormVariableNames(c.model) : new Set<string>();
      const { value, grads } = penaltyValueAndGradient(c.model, c.x, c.labels, { excludeBatchNorm });
      expect(value).toBeCloseTo(penaltyByFirstOrder(c, excluded), 5);
      // Along ∇P itself (restricted to the moving weights) the directional derivative is ‖∇P‖, the
      // largest there is: relative error < 1e-3. Along a random unit direction it can be near zero
      // by cancellation, so the error is measured against ‖∇P‖ (the scale of any unit-direction slope).
      const moving = unitDirection(c.model, 1, c.kinked).map((t) => tf.notEqual(t, 0));
      const restricted = grads.map((g, i) => tf.mul(g, tf.cast(moving[i]!, 'float32')));
      const scale = Math.sqrt(dotAll(restricted, restricted));
      const alongGradient = restricted.map((g) => tf.div(g, scale));
      const fdAlongGradient = directionalFd(c, alongGradient, 1e-2, excluded);
      expect(Math.abs(scale - fdAlongGradient) / scale).toBeLessThan(1e-3);
      for (const seed of [1, 2]) {
        const d = unitDirection(c.model, seed, c.kinked);
        const fd = directionalFd(c, d, 1e-2, excluded);
        expect(Math.abs(dotAll(grads, d) - fd) / scale).toBeLessThan(1e-3);
        tf.dispose(d);
      }
      tf.dispose([...moving, ...restricted, ...alongGradient]);
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
