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

describe('FusedBatchNorm gradient w.r.t. x, mean, variance, scale and offset', () => {
  for (const paramShape of [[3], [1, 1, 1, 3]]) {
    it(`parameters shaped [${paramShape}]: first and second derivatives match finite differences`, () => {
      const [x, mean, scale, offset, vx, vm, vv, vs, vo] = randomTensors(
        [
          [2, 4, 3, 3],
          paramShape,
          paramShape,
          paramShape,
          [2, 4, 3, 3],
          paramShape,
          paramShape,
          paramShape,
          paramShape,
        ],
        71,
      ) as tf.Tensor[];
      const variance = tf.randomUniform(paramShape, 0.5, 1.5, 'float32', 72);
      const c = tf.randomNormal([2, 4, 3, 3], 0, 1, 'float32', 73);
      const f: ScalarFn = (xi, m, v, s, o) =>
        tf.sum(
          tf.square(
            tf.sum(
              tf.mul(
                tf.tanh(
                  tf.batchNorm(
                    xi as tf.Tensor4D,
                    m as tf.Tensor4D,
                    v as tf.Tensor4D,
                    o as tf.Tensor4D,
                    s as tf.Tensor4D,
                    1e-3,
                  ),
                ),
                c,
              ),
              [1, 2],
            ),
          ),
        );
      const xs = [x!, mean!, variance, scale!, offset!];
      const vs_ = [vx!, vm!, tf.mul(vv!, 0.3), vs!, vo!];
      expect(firstDirectional(f, xs, vs_, 1e-2).relativeError).toBeLessThan(1e-3);
      const check = hessianVector(f, xs, vs_, 1e-2);
      expect(check.norm).toBeGreaterThan(1e-2);
      expect(check.relativeError).toBeLessThan(1e-3);
    });
  }
});
