import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend.js';
import { hessianVector, randomTensors, type ScalarFn } from './fixtures/finite_differences.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

const cases: { stride: number; pad: 'valid' | 'same' | number; kernel: number; channels: number }[] = [
  { stride: 1, pad: 'same', kernel: 3, channels: 3 },
  { stride: 2, pad: 'same', kernel: 3, channels: 2 },
  { stride: 2, pad: 'valid', kernel: 3, channels: 1 },
  { stride: 1, pad: 'valid', kernel: 1, channels: 3 },
  { stride: 1, pad: 1, kernel: 5, channels: 2 },
];

describe('Conv2DBackpropFilter gradient (second derivatives w.r.t. conv weights and inputs)', () => {
  for (const { stride, pad, kernel, channels } of cases) {
    it(`${kernel}x${kernel} stride ${stride} pad ${pad}: mixed Hessian-vector product matches finite differences`, () => {
      const [x, w, vx, vw] = randomTensors(
        [
          [2, 7, 6, channels],
          [kernel, kernel, channels, 4],
          [2, 7, 6, channels],
          [kernel, kernel, channels, 4],
        ],
        41,
      ) as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
      const f: ScalarFn = (input, filter) => {
        const y = tf.conv2d(input as tf.Tensor4D, filter as tf.Tensor4D, stride, pad);
        return tf.sum(tf.square(tf.sum(tf.tanh(tf.mul(y, 0.5)), [1, 2])));
      };
      const check = hessianVector(f, [x, tf.mul(w, 0.5)], [vx, vw], 1e-2);
      expect(check.norm).toBeGreaterThan(1e-2);
      expect(check.relativeError).toBeLessThan(1e-3);
    });
  }
});
