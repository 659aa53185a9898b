import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend.js';
import { hessianVector, type ScalarFn } from './fixtures/finite_differences.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

/**
 * Input values are a shuffled grid with spacing 0.02, so every window's maximum leads the runner-up
 * by at least 0.02 and a step of h·|v| ≤ 1e-3 never changes an argmax: the finite difference sees
 * the same piecewise-linear branch as the exact derivative.
 */
function separatedInput(shape: [number, number, number, number], seed: number): tf.Tensor4D {
  const size = shape.reduce((a, b) => a * b, 1);
  const values = Array.from({ length: size }, (_, i) => -1 + (2 * i) / size);
  let state = seed;
  for (let i = values.length - 1; i > 0; i--) {
    state = (state * 1103515245 + 12345) % 2147483648;
    const j = state % (i + 1);
    [values[i], values[j]] = [values[j]!, values[i]!];
  }
  return tf.tensor4d(values, shape);
}

const configs: { name: string; filter: number; stride: number; pad: 'valid' | 'same' }[] = [
  { name: '2x2 stride 2 valid', filter: 2, stride: 2, pad: 'valid' },
  { name: '3x3 stride 2 same (overlapping windows, padding)', filter: 3, stride: 2, pad: 'same' },
  { name: '3x3 stride 1 same', filter: 3, stride: 1, pad: 'same' },
  { name: '2x2 stride 1 valid', filter: 2, stride: 1, pad: 'valid' },
  { name: '2x2 stride 2 same on odd width (disjoint windows, padding)', filter: 2, stride: 2, pad: 'same' },
  { name: '3x3 stride 3 same (disjoint windows)', filter: 3, stride: 3, pad: 'same' },
];

describe('MaxPoolGrad gradient (second derivatives through max pooling)', () => {
  for (const { name, filter, stride, pad } of configs) {
    it(`${name}: Hessian-vector product matches finite differences`, () => {
      const x = separatedInput([2, 5, 6, 2], 3);
      const v = tf.randomUniform(x.shape, -1, 1, 'float32', 4);
      const f: ScalarFn = (y) => {
        const pooled = tf.maxPool(y as tf.Tensor4D, filter, stride, pad);
        const c = tf.randomNormal(pooled.shape, 0, 1, 'float32', 8);
        return tf.sum(tf.square(tf.sum(tf.tanh(tf.mul(pooled, c)), [1, 2])));
      };
      const check = hessianVector(f, [x], [v], 1e-3);
      expect(check.norm).toBeGreaterThan(1e-2);
      expect(check.relativeError).toBeLessThan(2e-3);
    });
  }
});
