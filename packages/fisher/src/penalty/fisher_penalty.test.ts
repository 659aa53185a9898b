import { initBackend, tf } from '@fisherlab/engine';
import { beforeAll, describe, expect, it } from 'vitest';
import { lossGradient } from '../hvp/exact.js';
import { dotAll } from '../hvp/parameters.js';
import { FisherPenalty } from './fisher_penalty.js';
import { batchNormConv, reluMaxPoolConv, tanhMlp } from './fixtures/tiny_models.js';
import { penaltyValueAndGradient } from './penalty.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

const maxAbsDiff = (a: tf.Tensor[], b: tf.Tensor[]): number =>
  Math.max(...a.map((t, i) => tf.tidy(() => tf.max(tf.abs(tf.sub(t, b[i]!))).dataSync()[0]!)));

describe('FisherPenalty.step', () => {
  for (const [name, build] of [
    ['MLP with tanh', tanhMlp],
    ['conv with relu + max pool', reluMaxPoolConv],
    ['conv with batch norm', batchNormConv],
  ] as const) {
    it(`fisher kind: gradient = ∇loss + α·2Hḡ at the sampled labels (${name})`, () => {
      const c = build();
      const fp = new FisherPenalty({ kind: 'fisher', alpha: 0.3, seed: 5 });
      const result = fp.step(c.model, c.x, c.labels, 0);
      expect(result.applied).toBe(true);
      const sampled = tf.tensor1d(result.penaltyLabels!, 'int32');
      const lossGrads = lossGradient(c.model, { x: c.x, labels: c.labels }, { training: true });
      const penalty = penaltyValueAndGradient(c.model, c.x, sampled);
      expect(result.penalty).toBeCloseTo(penalty.value, 5);
      const expected = lossGrads.map((g, i) => tf.add(g, tf.mul(penalty.grads[i]!, 0.3)));
      expect(maxAbsDiff(result.grads, expected)).toBeLessThan(1e-5);
      expect(Object.keys(result.namedGrads)).toEqual(
        c.model.trainableWeights.map((w) => (w.read() as tf.Variable).name),
      );
      tf.dispose([...result.grads, ...lossGrads, ...penalty.grads, ...expected, sampled]);
    });
  }

  it('gradnorm kind uses the true labels: penalty = ‖∇loss‖² from first-order gradients', () => {
    const c = tanhMlp();
    const result = new FisherPenalty({ kind: 'gradnorm', alpha: 0.1 }).step(c.model, c.x, c.labels, 0);
    expect(Array.from(result.penaltyLabels!)).toEqual(Array.from(c.labels.dataSync()));
    const g = lossGradient(c.model, { x: c.x, labels: c.labels }, { training: true });
    expect(result.penalty).toBeCloseTo(dotAll(g, g), 6);
    tf.dispose([...g, ...result.grads]);
  });

  it('applies the penalty every k steps; other steps are the plain loss gradient', () => {
    const c = tanhMlp();
    const fp = new FisherPenalty({ kind: 'fisher', alpha: 0.5, every: 3 });
    const plain = lossGradient(c.model, { x: c.x, labels: c.labels }, { training: true });
    const applied: boolean[] = [];
    for (let step = 0; step < 7; step++) {
      const result = fp.step(c.model, c.x, c.labels, step);
      applied.push(result.applied);
      if (!result.applied) {
        expect(result.penalty).toBeNull();
        expect(maxAbsDiff(result.grads, plain)).toBe(0);
      } else {
        expect(result.penalty).toBeGreaterThan(0);
        expect(maxAbsDiff(result.grads, plain)).toBeGreaterThan(1e-6);
      }
      tf.dispose(result.grads);
    }
    expect(applied).toEqual([true, false, false, true, false, false, true]);
    tf.dispose(plain);
  });

  it('draws the same labels for the same seed and step, fresh ones at other steps', () => {
    const c = tanhMlp();
    const x = tf.tile(c.x, [10, 1]);
    const labels = tf.tile(c.labels, [10]) as tf.Tensor1D;
    const draw = (seed: number, step: number) => {
      const r = new FisherPenalty({ kind: 'fisher', alpha: 0.1, seed }).step(c.model, x, labels, step);
      tf.dispose(r.grads);
      return Array.from(r.penaltyLabels!);
    };
    expect(draw(3, 2)).toEqual(draw(3, 2));
    expect(draw(3, 2)).not.toEqual(draw(3, 4));
    expect(draw(3, 2)).not.toEqual(draw(4, 2));
  });

  it("method 'finite-difference' agrees with 'exact' on a smooth net", () => {
    const c = batchNormConv();
    const exact = new FisherPenalty({ kind: 'gradnorm', alpha: 0.5 }).step(c.model, c.x, c.labels, 0);
    const fd = new FisherPenalty({
      kind: 'gradnorm',
      alpha: 0.5,
      method: 'finite-difference',
      radius: 1e-2,
    }).step(c.model, c.x, c.labels, 0);
    expect(fd.penalty).toBeCloseTo(exact.penalty!, 5);
    const cosine =
      dotAll(exact.grads, fd.grads) /
      Math.sqrt(dotAll(exact.grads, exact.grads) * dotAll(fd.grads, fd.grads));
    expect(cosine).toBeGreaterThan(0.9999);
    tf.dispose([...exact.grads, ...fd.grads]);
  });

  it('a penalised step moves BatchNorm statistics exactly as a plain step does (one forward pass)', () => {
    const c = batchNormConv();
    const state = c.model.nonTrainableWeights.map((w) => w.read() as tf.Variable);
    const initial = state.map((v) => tf.clone(v));
    const after = (fp: FisherPenalty, step: number): Float32Array[] => {
      for (const [i, v] of state.entries()) v.assign(initial[i]!);
      tf.dispose(fp.step(c.model, c.x, c.labels, step).grads);
      return state.map((v) => v.dataSync() as Float32Array);
    };
    const plain = after(new FisherPenalty({ kind: 'fisher', alpha: 0.5, every: 2 }), 1);
    expect(plain[0]).not.toEqual(initial[0]!.dataSync());
    for (const method of ['exact', 'finite-difference'] as const) {
      expect(after(new FisherPenalty({ kind: 'fisher', alpha: 0.5, method }), 0)).toEqual(plain);
    }
    tf.dispose(initial);
  });

  it('leaks no tensors (exact and finite-difference, penalised and plain steps)', () => {
    const c = batchNormConv();
    for (const method of ['exact', 'finite-difference'] as const) {
      const fp = new FisherPenalty({ kind: 'fisher', alpha: 0.2, every: 2, method });
      tf.dispose(fp.step(c.model, c.x, c.labels, 0).grads);
      const before = tf.memory().numTensors;
      for (let step = 0; step < 4; step++) tf.dispose(fp.step(c.model, c.x, c.labels, step).grads);
      expect(tf.memory().numTensors).toBe(before);
    }
  });

  it('rejects bad options with the key, what was expected and found', () => {
    expect(() => new FisherPenalty({ kind: 'fisher', alpha: 0.1, every: 0 })).toThrow(
      /^FisherPenalty: options\.every: expected an integer ≥ 1, found 0\. Fix: /,
    );
    expect(() => new FisherPenalty({ kind: 'fisher', alpha: -1 })).toThrow(/options\.alpha: expected/);
    expect(() => new FisherPenalty({ kind: 'fish' as 'fisher', alpha: 1 })).toThrow(
      /options\.kind: .*found "fish"/,
    );
  });
});
