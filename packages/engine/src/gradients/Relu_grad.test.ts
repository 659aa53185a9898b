import * as tf from '@tensorflow/tfjs';
import { describe, expect, it, vi } from 'vitest';
import { nativeAddonForTests, skipNote, useTier } from '../kernels/native/fixtures/native-tier.js';
import { firstDirectional, hessianVector, randomTensors } from './fixtures/finite_differences.js';
import { installGradients } from './index.js';

/**
 * Relu's gradient: the stock formula's values (bit for bit: dy·step(x)) on the native backend's
 * one-kernel form, and first and second directional derivatives through relu against finite
 * differences on both the cpu backend (stock formula) and the native backend (the kernel and its
 * own gradient).
 */

// Relu inside a smooth function, so the second derivative flows through relu's gradient (its dy).
const f = (x: tf.Tensor): tf.Scalar => {
  const c = tf.randomNormal(x.shape, 0, 1, 'float32', 21);
  return tf.sum(tf.square(tf.sum(tf.mul(tf.relu(tf.mul(x, 1.3)), c), 1)));
};

function gradientOn(xValues: Float32Array, dyValues: Float32Array, shape: number[]): Float32Array {
  return tf.tidy(() => {
    const dy = tf.tensor(dyValues, shape);
    return tf
      .grad((x: tf.Tensor) => tf.sum(tf.mul(tf.relu(x), dy)))(tf.tensor(xValues, shape))
      .dataSync() as Float32Array;
  });
}

describe.each(['cpu', 'native-backend'] as const)('Relu gradient on %s', (tier) => {
  it.skipIf(tier !== 'cpu' && !nativeAddonForTests)(
    `first and second directional derivatives match finite differences${tier === 'cpu' ? '' : skipNote}`,
    async () => {
      installGradients();
      await useTier(tier);
      // Entries kept away from 0, where relu bends and finite differences straddle the kink.
      const [raw, v] = randomTensors(
        [
          [4, 6],
          [4, 6],
        ],
        3,
      ) as [tf.Tensor, tf.Tensor];
      const x = tf.tidy(() => tf.add(raw, tf.mul(tf.sign(raw), 0.2)));
      expect(
        firstDirectional(f as (...xs: tf.Tensor[]) => tf.Scalar, [x], [v], 1e-2).relativeError,
      ).toBeLessThan(1e-4);
      const second = hessianVector(f as (...xs: tf.Tensor[]) => tf.Scalar, [x], [v], 1e-2);
      expect(second.norm).toBeGreaterThan(1e-2);
      expect(second.relativeError).toBeLessThan(1e-3);
      tf.dispose([raw, v, x]);
    },
  );
});

describe.skipIf(!nativeAddonForTests)(`Relu gradient as one native kernel${skipNote}`, () => {
  it("equals the cpu backend's stock dy·step(x), NaN and signed zeros included", async () => {
    installGradients();
    const shape = [3, 5, 7];
    const size = 105;
    const x = Float32Array.from({ length: size }, (_, i) => (i % 7 === 0 ? 0 : Math.sin(i * 1.7)));
    x[4] = Number.NaN;
    const dy = Float32Array.from({ length: size }, (_, i) => Math.cos(i * 0.9) * 3);
    await useTier('cpu');
    const expected = gradientOn(x, dy, shape);
    await useTier('native-backend');
    const spy = vi.spyOn(nativeAddonForTests!, 'binary');
    const actual = gradientOn(x, dy, shape);
    expect(spy.mock.calls.some((call) => call[0] === nativeAddonForTests!.binaryOps.reluGrad)).toBe(true);
    vi.restoreAllMocks();
    expect([...actual].map((value) => (Object.is(value, -0) ? '-0' : value))).toEqual(
      [...expected].map((value) => (Object.is(value, -0) ? '-0' : value)),
    );
  });
});
