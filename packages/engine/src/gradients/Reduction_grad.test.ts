import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend.js';
import { firstDirectional, hessianVector, randomTensors } from './fixtures/finite_differences.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

// Sum and Mean inside smooth functions whose Hessians involve the reductions' gradients, for
// reductions over leading, trailing, middle and all axes, with and without keepDims.
const cases: [string, number | number[] | undefined, boolean][] = [
  ['axes [0, 1, 2] (bias and batch-norm sums)', [0, 1, 2], false],
  ['axis -1', -1, false],
  ['axis 1, keepDims', 1, true],
  ['all axes', undefined, false],
];

describe('Sum and Mean gradients (a broadcast of dy) against finite differences', () => {
  for (const [name, axis, keepDims] of cases) {
    for (const reduce of [tf.sum, tf.mean]) {
      it(`${reduce === tf.sum ? 'Sum' : 'Mean'} over ${name}: first and second directional derivatives`, () => {
        const [x, v] = randomTensors(
          [
            [2, 3, 4, 5],
            [2, 3, 4, 5],
          ],
          7,
        ) as [tf.Tensor, tf.Tensor];
        // (reduce(tanh(x)))² summed: the second derivative flows back through the reduction's gradient.
        const f = (y: tf.Tensor): tf.Scalar =>
          tf.sum(tf.square(reduce(tf.tanh(tf.mul(y, 1.3)), axis, keepDims)));
        const first = firstDirectional(f as (...xs: tf.Tensor[]) => tf.Scalar, [x], [v], 1e-2);
        const second = hessianVector(f as (...xs: tf.Tensor[]) => tf.Scalar, [x], [v], 1e-2);
        expect(first.relativeError).toBeLessThan(1e-4);
        expect(second.norm).toBeGreaterThan(1e-3);
        expect(second.relativeError).toBeLessThan(1e-3);
      });
    }
  }

  it('the gradient is dy broadcast over the reduced axes (divided by their size for Mean)', () => {
    const x = tf.randomNormal([2, 3, 4]);
    const dy = tf.tensor2d([
      [1, 2, 3, 4],
      [5, 6, 7, 8],
    ]);
    const sumGrad = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.sum(t, 1), dy)))(x);
    const meanGrad = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.mean(t, 1), dy)))(x);
    const expected = tf.tile(tf.reshape(dy, [2, 1, 4]), [1, 3, 1]);
    expect(Array.from(sumGrad.dataSync())).toEqual(Array.from(expected.dataSync()));
    const expectedMean = Array.from(expected.dataSync()).map((value) => value / 3);
    Array.from(meanGrad.dataSync()).forEach((value, i) => {
      expect(value).toBeCloseTo(expectedMean[i] as number, 6);
    });
    tf.dispose([x, dy, sumGrad, meanGrad, expected]);
  });
});
