import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend.js';
import { hessianVector, type ScalarFn } from '../gradients/fixtures/finite_differences.js';
import {
  logSoftmaxExact,
  softmaxCrossEntropy,
  softmaxCrossEntropyPerExample,
} from './softmax_cross_entropy.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

describe('softmaxCrossEntropyPerExample', () => {
  it('equals −log softmax at the label, computed independently in float64', () => {
    const logits = [
      [2.0, -1.0, 0.5],
      [30.0, 29.0, -40.0],
      [0.0, 0.0, 0.0],
    ];
    const labels = [2, 1, 0];
    const expected = logits.map((row, i) => {
      const m = Math.max(...row);
      const lse = m + Math.log(row.reduce((s, z) => s + Math.exp(z - m), 0));
      return lse - row[labels[i]!]!;
    });
    const got = softmaxCrossEntropyPerExample(tf.tensor2d(logits), tf.tensor1d(labels, 'int32')).arraySync();
    for (const [i, g] of got.entries()) expect(g).toBeCloseTo(expected[i]!, 5);
  });

  it('has the closed-form Hessian w.r.t. logits: diag(p) − p pᵀ per example (averaged over the batch)', () => {
    const logits = tf.tensor2d([
      [0.3, -1.2, 2.0, 0.1],
      [1.5, 0.2, -0.7, -2.0],
    ]);
    const labels = tf.tensor1d([1, 3], 'int32');
    const v = tf.tensor2d([
      [1, -2, 0.5, 3],
      [-1, 0.25, 2, 1],
    ]);
    const f = (z: tf.Tensor): tf.Scalar => softmaxCrossEntropy(z as tf.Tensor2D, labels);
    const hv = tf.grad((z: tf.Tensor) => tf.sum(tf.mul(tf.grad(f)(z), v)))(logits);
    const p = tf.softmax(logits);
    // (diag(p) − p pᵀ) v = p ⊙ v − p (p·v), divided by B for the mean.
    const expected = tf.div(tf.sub(tf.mul(p, v), tf.mul(p, tf.sum(tf.mul(p, v), 1, true))), 2);
    expect(tf.max(tf.abs(tf.sub(hv, expected))).dataSync()[0]).toBeLessThan(1e-6);
  });

  it('logSoftmaxExact is twice differentiable where tf.logSoftmax is not', () => {
    const x = tf.randomUniform([3, 5], -2, 2, 'float32', 1);
    const v = tf.randomUniform([3, 5], -1, 1, 'float32', 2);
    const c = tf.randomNormal([3, 5], 0, 1, 'float32', 3);
    const f: ScalarFn = (y) => tf.sum(tf.square(tf.sum(tf.mul(logSoftmaxExact(y as tf.Tensor2D), c), 1)));
    expect(hessianVector(f, [x], [v], 1e-2).relativeError).toBeLessThan(1e-3);
  });

  it('rejects one-hot labels and float labels with a message that says what to pass', () => {
    const logits = tf.zeros([2, 3]) as tf.Tensor2D;
    expect(() => softmaxCrossEntropyPerExample(logits, tf.tensor1d([0, 1]))).toThrow(/int32 \[2\].*float32/);
    expect(() => softmaxCrossEntropyPerExample(logits, tf.tensor1d([0, 1, 2], 'int32'))).toThrow(
      /class indices/,
    );
  });

  it('refuses a label outside [0, classes) instead of returning a loss of 0 (label 10 with 10 classes)', () => {
    const logits = tf.randomNormal([3, 10], 0, 1, 'float32', 1) as tf.Tensor2D;
    expect(() => softmaxCrossEntropyPerExample(logits, tf.tensor1d([0, 10, 2], 'int32'))).toThrow(
      /softmaxCrossEntropy: labels: expected class indices in \[0, 10\).*found 10 at index 1/,
    );
    expect(() => softmaxCrossEntropyPerExample(logits, tf.tensor1d([0, -1, 2], 'int32'))).toThrow(
      /found -1 at index 1/,
    );
  });
});
