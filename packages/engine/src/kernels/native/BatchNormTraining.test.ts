import * as tf from '@tensorflow/tfjs';
import { describe, expect, it, vi } from 'vitest';
import { installGradients } from '../../gradients/index.js';
import { batchNormTraining } from '../../layers/batch_normalization.js';
import { normals, relativeErrors, sizeOf } from '../wasm/fixtures/against-cpu.js';
import { nativeAddonForTests, skipNote, useTier } from './fixtures/native-tier.js';

/**
 * The native backend's fused training-mode batch norm against tfjs's unfused path on the cpu
 * backend (tf.moments and tf.batchNorm, with FisherLab's gradients), from the same inputs: the
 * outputs, first derivatives and second derivatives (a Hessian-vector product) of a scalar that
 * uses y nonlinearly (so the backward's dy depends on x, scale and offset) and the batch
 * statistics (so their gradients dmean, dvariance are not zero).
 */

type Normalize = (x: tf.Tensor, scale: tf.Tensor1D, offset: tf.Tensor1D) => tf.Tensor[];

const EPSILON = 1e-3;

const fused: Normalize = (x, scale, offset) => batchNormTraining(x, scale, offset, EPSILON);

const unfused: Normalize = (x, scale, offset) => {
  const axes = x.shape.slice(0, -1).map((_, i) => i);
  const { mean, variance } = tf.moments(x, axes);
  return [tf.batchNorm(x, mean, variance, offset, scale, EPSILON), mean, variance];
};

interface Inputs {
  x: Float32Array;
  scale: Float32Array;
  offset: Float32Array;
  weights: Float32Array;
  direction: Float32Array[];
}

function inputsFor(shape: number[], seed: number): Inputs {
  const channels = shape[shape.length - 1] as number;
  const size = sizeOf(shape);
  // An offset mean per channel (3 + c), so centering is exercised.
  const x = normals(size, seed).map((v, i) => 3 + (i % channels) + 2 * v);
  return {
    x,
    scale: normals(channels, seed + 1).map((v) => 1 + 0.5 * v),
    offset: normals(channels, seed + 2),
    weights: normals(size, seed + 3),
    direction: [normals(size, seed + 4), normals(channels, seed + 5), normals(channels, seed + 6)],
  };
}

/** f = Σ w·y² + Σ mean·(c + 1)/C + Σ variance², whose gradient needs every path through the kernel. */
function objective(normalize: Normalize, weights: tf.Tensor): (...xs: tf.Tensor[]) => tf.Scalar {
  return (x, scale, offset) => {
    const [y, mean, variance] = normalize(x as tf.Tensor, scale as tf.Tensor1D, offset as tf.Tensor1D) as [
      tf.Tensor,
      tf.Tensor,
      tf.Tensor,
    ];
    const channels = mean.shape[0] as number;
    const ramp = tf.div(tf.range(1, channels + 1), channels);
    return tf.addN([
      tf.sum(tf.mul(weights, tf.square(y))),
      tf.sum(tf.mul(mean, ramp)),
      tf.sum(tf.square(variance)),
    ]) as tf.Scalar;
  };
}

/** Forward outputs, gradient and Hessian-vector product, flattened, on the active backend. */
function evaluate(normalize: Normalize, shape: number[], inputs: Inputs): Float32Array[] {
  return tf.tidy(() => {
    const channels = shape[shape.length - 1] as number;
    const xs = [tf.tensor(inputs.x, shape), tf.tensor1d(inputs.scale), tf.tensor1d(inputs.offset)];
    const vs = inputs.direction.map((values, i) => tf.tensor(values, (xs[i] as tf.Tensor).shape));
    const f = objective(normalize, tf.tensor(inputs.weights, shape));
    const outputs = normalize(xs[0] as tf.Tensor, xs[1] as tf.Tensor1D, xs[2] as tf.Tensor1D);
    const gradient = tf.grads(f)(xs);
    const gradDotV = (...args: tf.Tensor[]) =>
      tf.addN(
        tf
          .grads(f)(args)
          .map((g, i) => tf.sum(tf.mul(g, vs[i] as tf.Tensor))),
      ) as tf.Scalar;
    const hessianVector = tf.grads(gradDotV)(xs);
    const flat = (ts: tf.Tensor[]) =>
      tf.concat(ts.map((t) => tf.reshape(t, [-1]))).dataSync() as Float32Array;
    expect(outputs[1]?.shape).toEqual([channels]);
    return [flat(outputs), flat(gradient), flat(hessianVector)];
  });
}

const SHAPES = [
  [2, 3],
  [7, 1],
  [4, 5, 6, 3],
  [3, 1, 1, 7],
  [8, 4, 4, 16],
  // Over the addon's parallel threshold (2^18 floats): per-thread partial sums.
  [16, 16, 16, 72],
];

describe.skipIf(!nativeAddonForTests)(
  `fused training-mode batch norm on the native backend${skipNote}`,
  () => {
    it.each(SHAPES.map((shape) => [shape]))(
      'x %j: outputs, gradient and Hessian-vector product match the unfused path on cpu',
      async (shape) => {
        installGradients();
        const inputs = inputsFor(shape, shape.length * 100 + (shape[0] as number));
        await useTier('cpu');
        const [cpuOut, cpuGrad, cpuHvp] = evaluate(unfused, shape, inputs);
        await useTier('native-backend');
        const addon = nativeAddonForTests!;
        const kernels = ['batchNormTraining', 'batchNormTrainingGrad', 'batchNormTrainingGradGrad'] as const;
        const spies = kernels.map((name) => vi.spyOn(addon, name));
        const [out, grad, hvp] = evaluate(fused, shape, inputs);
        for (const [i, spy] of spies.entries()) expect(spy.mock.calls.length, kernels[i]).toBeGreaterThan(0);
        vi.restoreAllMocks();
        expect(relativeErrors(out as Float32Array, cpuOut as Float32Array).max).toBeLessThan(2e-5);
        expect(relativeErrors(grad as Float32Array, cpuGrad as Float32Array).l2).toBeLessThan(1e-4);
        expect(relativeErrors(hvp as Float32Array, cpuHvp as Float32Array).l2).toBeLessThan(1e-3);
      },
    );

    it('frees every tensor of a double backprop, and names a wrong input shape', async () => {
      installGradients();
      await useTier('native-backend');
      const shape = [4, 3, 3, 5];
      const inputs = inputsFor(shape, 9);
      evaluate(fused, shape, inputs);
      const before = tf.memory().numTensors;
      evaluate(fused, shape, inputs);
      expect(tf.memory().numTensors).toBe(before);
      expect(() =>
        tf.tidy(() =>
          batchNormTraining(tf.zeros([2, 4]), tf.ones([3]) as tf.Tensor1D, tf.zeros([3]), EPSILON),
        ),
      ).toThrow(/scale has shape \[3\], expected 4 values/);
    });
  },
);
