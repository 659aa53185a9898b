import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend.js';
import { hessianVector, randomTensors, type ScalarFn } from './fixtures/finite_differences.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

describe('Tile gradient', () => {
  for (const [shape, reps] of [
    [[3], [4]],
    [
      [2, 3],
      [3, 2],
    ],
    [
      [1, 2, 1, 3],
      [4, 1, 5, 2],
    ],
  ] as const) {
    it(`x [${shape}] tiled by [${reps}]: gradient is the sum over copies, Hessian matches finite differences`, () => {
      const [x, v] = randomTensors([[...shape], [...shape]], 51) as [tf.Tensor, tf.Tensor];
      const tiledShape = shape.map((s, i) => s * (reps[i] ?? 1));
      const c = tf.randomNormal(tiledShape, 0, 1, 'float32', 52);
      // Independent truth for the first derivative: Σ c ⊙ tile(x) = Σ_copies ⟨c_copy, x⟩.
      const linear: ScalarFn = (y) => tf.sum(tf.mul(tf.tile(y as tf.Tensor, [...reps]), c));
      const [grad] = tf.grads(linear)([x]) as [tf.Tensor];
      const split = shape.flatMap((s, i) => [reps[i] ?? 1, s]);
      const copyAxes = shape.map((_, i) => 2 * i);
      const expected = tf.reshape(tf.sum(tf.reshape(c, split), copyAxes), [...shape]);
      expect(tf.max(tf.abs(tf.sub(grad, expected))).dataSync()[0]).toBeLessThan(1e-5);

      const f: ScalarFn = (y) => tf.sum(tf.square(tf.tanh(tf.mul(tf.tile(y as tf.Tensor, [...reps]), c))));
      const check = hessianVector(f, [x], [v], 1e-2);
      expect(check.relativeError).toBeLessThan(1e-3);
    });
  }
});
