import { initBackend, tf } from '@fisherlab/engine';
import { beforeAll, describe, expect, it } from 'vitest';
import { reluMaxPoolConv, tanhMlp } from '../penalty/fixtures/tiny_models.js';
import { hessianVectorProduct } from './exact.js';
import { checkFiniteDifferenceHvp, finiteDifferenceHvp } from './finite_difference.js';
import { dotAll, rademacherLike } from './parameters.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

describe('hessianVectorProduct', () => {
  it('matches the closed form for softmax regression: H = (1/B) Σ (diag p − p pᵀ) ⊗ [x;1][x;1]ᵀ', () => {
    const model = tf.sequential({
      layers: [
        tf.layers.dense({
          inputShape: [4],
          units: 3,
          kernelInitializer: tf.initializers.randomNormal({ seed: 1 }),
          biasInitializer: tf.initializers.randomNormal({ seed: 2 }),
        }),
      ],
    });
    const x = tf.randomNormal([5, 4], 0, 1, 'float32', 3);
    const labels = tf.tensor1d([0, 1, 2, 1, 0], 'int32');
    const [vW, vb] = [tf.randomNormal([4, 3], 0, 1, 'float32', 4), tf.randomNormal([3], 0, 1, 'float32', 5)];
    const [hW, hb] = hessianVectorProduct(model, { x, labels }, [vW, vb]) as [tf.Tensor, tf.Tensor];
    // Independent: dz_i = x_i V + v_b, u_i = p_i ⊙ dz_i − p_i (p_i·dz_i); HV_W = Xᵀ U / B, HV_b = Σ u_i / B.
    const p = tf.softmax(model.predict(x) as tf.Tensor2D);
    const dz = tf.add(tf.matMul(x, vW), vb);
    const u = tf.sub(tf.mul(p, dz), tf.mul(p, tf.sum(tf.mul(p, dz), 1, true)));
    const expectedW = tf.div(tf.matMul(x, u, true, false), 5);
    const expectedB = tf.div(tf.sum(u, 0), 5);
    expect(tf.max(tf.abs(tf.sub(hW, expectedW))).dataSync()[0]).toBeLessThan(1e-6);
    expect(tf.max(tf.abs(tf.sub(hb, expectedB))).dataSync()[0]).toBeLessThan(1e-6);
  });

  it('rejects a direction with the wrong number of tensors, saying what to pass', () => {
    const c = tanhMlp();
    expect(() => hessianVectorProduct(c.model, c, [tf.zeros([5, 7])])).toThrow(
      /1 tensors but the model has 4/,
    );
  });

  it('rejects models that end in a softmax', () => {
    const model = tf.sequential({
      layers: [tf.layers.dense({ inputShape: [2], units: 2, activation: 'softmax' })],
    });
    expect(() =>
      hessianVectorProduct(model, { x: tf.zeros([1, 2]), labels: tf.tensor1d([0], 'int32') }, []),
    ).toThrow(
      /^hessianVectorProduct: model '.*': expected logits .*found probabilities.*activation 'linear'/,
    );
  });
});

describe('finite-difference HVP and its check', () => {
  it('agrees with the exact HVP on a smooth net, and the check says so', () => {
    const c = tanhMlp();
    const v = rademacherLike(c.model, 3);
    const exact = hessianVectorProduct(c.model, c, v);
    const fd = finiteDifferenceHvp(c.model, c, v, { radius: 1e-2 });
    const cosine = dotAll(exact, fd) / Math.sqrt(dotAll(exact, exact) * dotAll(fd, fd));
    expect(cosine).toBeGreaterThan(0.9999);
    const check = checkFiniteDifferenceHvp(c.model, c, { radius: 1e-2 });
    expect(check.agrees).toBe(true);
    expect(check.relativeError).toBeLessThan(0.01);
  });

  it('says it disagrees where the step crosses relu / max-pool kinks (a step of 0.5 in weight space)', () => {
    const c = reluMaxPoolConv();
    const check = checkFiniteDifferenceHvp(c.model, c, { probes: 2, radius: 0.5 });
    expect(check.agrees).toBe(false);
    expect(check.relativeError).toBeGreaterThan(0.05);
  });
});
