import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend.js';
import {
  firstDirectional,
  hessianVector,
  randomTensors,
  type ScalarFn,
} from './fixtures/finite_differences.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

describe('AvgPoolGrad gradient (second derivatives through average pooling)', () => {
  for (const [filter, stride] of [
    [2, 2],
    [3, 1],
    [3, 2],
  ] as const) {
    it(`${filter}x${filter} stride ${stride} valid: Hessian-vector product matches finite differences`, () => {
      const [x, v] = randomTensors(
        [
          [2, 6, 7, 3],
          [2, 6, 7, 3],
        ],
        21,
      ) as [tf.Tensor4D, tf.Tensor4D];
      const f: ScalarFn = (y) => {
        const pooled = tf.avgPool(y as tf.Tensor4D, filter, stride, 'valid');
        const c = tf.randomNormal(pooled.shape, 0, 1, 'float32', 9);
        return tf.sum(tf.square(tf.sum(tf.tanh(tf.mul(pooled, c)), [1, 2])));
      };
      const check = hessianVector(f, [x], [v], 1e-2);
      expect(check.norm).toBeGreaterThan(1e-2);
      expect(check.relativeError).toBeLessThan(1e-3);
    });
  }

  it('is the adjoint of the AvgPoolGrad kernel with same padding: ⟨A u, w⟩ = ⟨u, AvgPoolGrad(w)⟩', () => {
    // Border windows are where 'same' padding matters; the kernel divides by the full window.
    const [x, u] = randomTensors(
      [
        [1, 5, 5, 2],
        [1, 5, 5, 2],
      ],
      31,
    ) as [tf.Tensor4D, tf.Tensor4D];
    const w = tf.randomNormal([1, 3, 3, 2], 0, 1, 'float32', 32) as tf.Tensor4D;
    // g(w) = ⟨u, AvgPoolGrad(w)⟩ is linear in w, so its gradient is A u.
    const g = (dy: tf.Tensor): tf.Scalar =>
      tf.sum(
        tf.mul(
          u,
          tf.engine().runKernel(tf.AvgPoolGrad, { dy, input: x }, {
            filterSize: 3,
            strides: 2,
            pad: 'same',
          } as unknown as tf.NamedAttrMap) as tf.Tensor,
        ),
      );
    const [au] = tf.grads(g)([tf.zerosLike(w)]) as [tf.Tensor];
    const lhs = tf.sum(tf.mul(au, w)).dataSync()[0]!;
    const rhs = g(w).dataSync()[0]!;
    expect(Math.abs(lhs - rhs)).toBeLessThan(1e-5 * Math.max(1, Math.abs(rhs)));
  });
});

describe("AvgPool gradient with 'same' padding (border windows average fewer pixels)", () => {
  for (const [filter, stride, shape] of [
    [3, 2, [2, 5, 6, 2]],
    [2, 2, [1, 5, 5, 3]],
    [3, 1, [2, 4, 5, 1]],
  ] as const) {
    it(`${filter}x${filter} stride ${stride} on [${shape}]: first and second derivatives match finite differences`, () => {
      const [x, v] = randomTensors([[...shape], [...shape]], 61) as [tf.Tensor4D, tf.Tensor4D];
      const f: ScalarFn = (y) => {
        const pooled = tf.avgPool(y as tf.Tensor4D, filter, stride, 'same');
        const c = tf.randomNormal(pooled.shape, 0, 1, 'float32', 62);
        return tf.sum(tf.square(tf.sum(tf.tanh(tf.mul(pooled, c)), [1, 2])));
      };
      expect(firstDirectional(f, [x], [v], 1e-2).relativeError).toBeLessThan(1e-3);
      const check = hessianVector(f, [x], [v], 1e-2);
      expect(check.norm).toBeGreaterThan(1e-2);
      expect(check.relativeError).toBeLessThan(1e-3);
    });
  }
});
