import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend.js';
import { firstDirectional, hessianVector, randomTensors } from './fixtures/finite_differences.js';

// Exp, Tanh, Sigmoid and Softmax: ops whose stock gradient reads the op's own saved
// output. Each is checked inside a small smooth function so the second derivative also flows
// through the op's gradient (the path tfjs-core used to drop).
beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

const weights = (shape: number[]): tf.Tensor => tf.randomNormal(shape, 0, 1, 'float32', 99);

const cases: Record<string, (x: tf.Tensor) => tf.Tensor> = {
  Exp: (x) => tf.exp(tf.mul(x, 0.7)),
  Tanh: (x) => tf.tanh(tf.mul(x, 1.3)),
  Sigmoid: (x) => tf.sigmoid(tf.mul(x, 1.7)),
  Softmax: (x) => tf.softmax(tf.mul(x, 1.5)),
  'Tanh∘Tanh (output reused twice)': (x) => tf.mul(tf.tanh(x), tf.tanh(tf.tanh(x))),
};

describe('second derivatives through ops whose gradient uses their output', () => {
  for (const [name, op] of Object.entries(cases)) {
    it(`${name}: first and second directional derivatives match finite differences`, () => {
      const [x, v] = randomTensors(
        [
          [3, 5],
          [3, 5],
        ],
        11,
      ) as [tf.Tensor, tf.Tensor];
      const c = weights([3, 5]);
      // A non-quadratic outer function so cross terms appear in the Hessian.
      const f = (y: tf.Tensor): tf.Scalar => tf.sum(tf.square(tf.sum(tf.mul(op(y), c), 1)));
      const first = firstDirectional(f as (...xs: tf.Tensor[]) => tf.Scalar, [x], [v], 1e-2);
      const second = hessianVector(f as (...xs: tf.Tensor[]) => tf.Scalar, [x], [v], 1e-2);
      expect(first.relativeError).toBeLessThan(1e-4);
      expect(second.norm).toBeGreaterThan(1e-2);
      expect(second.relativeError).toBeLessThan(1e-3);
    });
  }

  it('Equal has a zero derivative, so logSumExp (max, Equal) is twice differentiable', () => {
    const [x, v] = randomTensors(
      [
        [4, 6],
        [4, 6],
      ],
      5,
    ) as [tf.Tensor, tf.Tensor];
    const f = (y: tf.Tensor): tf.Scalar => tf.sum(tf.square(tf.logSumExp(tf.mul(y, 2), 1)));
    const second = hessianVector(f as (...xs: tf.Tensor[]) => tf.Scalar, [x], [v], 1e-2);
    expect(second.relativeError).toBeLessThan(1e-3);
  });
});
