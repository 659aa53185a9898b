import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { installGradients } from '../../gradients/index.js';
import { dot, normals } from '../wasm/fixtures/against-cpu.js';
import { poolCases, poolInputs, poolOutputShape } from '../wasm/fixtures/pool-cases.js';
import { nativeAddonForTests, runKernelOnTier, skipNote, useTier } from './fixtures/native-tier.js';
import { maxPoolSelect } from './MaxPoolSelect.js';

/**
 * The native max-pool select A·ddx against the cpu backend's MaxPoolGrad (Aᵀ·dy) through the
 * adjoint identity ⟨A·ddx, dy⟩ = ⟨ddx, Aᵀ·dy⟩ for random dy, on the pool grid (ties included),
 * and against the portable 4-kernel formula of MaxPoolGrad's gradient on the plain wasm tier.
 */
describe.skipIf(!nativeAddonForTests)(`MaxPoolSelect on the native tier${skipNote}`, () => {
  it.each(poolCases())('is the adjoint of the cpu MaxPoolGrad: %s', async (_name, c) => {
    const { x } = poolInputs(c);
    const ddx = normals(x.length, 11);
    const outShape = poolOutputShape(c);
    const attrs = { filterSize: c.filterSize, strides: c.strides, pad: c.pad };
    await useTier('native');
    const selected = tf.tidy(() =>
      maxPoolSelect(tf.tensor4d(ddx, c.inputShape), tf.tensor4d(x, c.inputShape), attrs)?.dataSync(),
    );
    if (!selected) throw new Error('the native tier did not take a float32 max pool');
    expect(selected).toHaveLength(outShape.reduce((a, b) => a * b, 1));
    for (const seed of [1, 2]) {
      const dy = normals(selected.length, 20 + seed);
      const y = await runKernelOnTier('cpu', tf.MaxPool, { x: { shape: c.inputShape, values: x } }, attrs);
      const dx = await runKernelOnTier(
        'cpu',
        tf.MaxPoolGrad,
        {
          dy: { shape: outShape, values: dy },
          input: { shape: c.inputShape, values: x },
          output: { shape: outShape, values: y.values as Float32Array },
        },
        attrs,
      );
      const lhs = dot(selected as Float32Array, dy);
      const rhs = dot(ddx, dx.values as Float32Array);
      expect(Math.abs(lhs - rhs)).toBeLessThan(1e-5 * (Math.abs(lhs) + Math.sqrt(dy.length)));
    }
  });

  it("equals the portable formula of MaxPoolGrad's gradient (plain wasm tier), and is undefined there", async () => {
    installGradients();
    const c = poolCases().find(([name]) => name.includes('ties'))![1];
    const { x, dy } = poolInputs(c);
    const ddx = normals(x.length, 5);
    const attrs = { filterSize: c.filterSize, strides: c.strides, pad: c.pad };
    const viaGradient = async () =>
      tf.tidy(() => {
        const input = tf.tensor4d(x, c.inputShape);
        const output = tf.maxPool(input, c.filterSize, c.strides, c.pad);
        // ∂⟨ddx, MaxPoolGrad(dy)⟩/∂dy is MaxPoolGrad's registered gradient with respect to dy.
        return tf
          .grad((d: tf.Tensor) =>
            tf.sum(
              tf.mul(
                tf.tensor4d(ddx, c.inputShape),
                tf.engine().runKernel(tf.MaxPoolGrad, { dy: d, input, output }, attrs) as tf.Tensor,
              ),
            ),
          )(tf.tensor4d(dy, poolOutputShape(c)))
          .dataSync();
      });
    await useTier('native');
    const native = await viaGradient();
    await useTier('wasm');
    expect(
      tf.tidy(() => maxPoolSelect(tf.tensor4d(ddx, c.inputShape), tf.tensor4d(x, c.inputShape), attrs)),
    ).toBeUndefined();
    const portable = await viaGradient();
    expect(Array.from(native)).toEqual(Array.from(portable));
  });

  it('has a gradient with respect to ddx: MaxPoolGrad (third-order use)', async () => {
    installGradients();
    await useTier('native');
    const c = poolCases()[5]![1];
    const { x } = poolInputs(c);
    const weights = normals(
      poolOutputShape(c).reduce((a, b) => a * b, 1),
      3,
    );
    const attrs = { filterSize: c.filterSize, strides: c.strides, pad: c.pad };
    const gradient = tf.tidy(() => {
      const input = tf.tensor4d(x, c.inputShape);
      const w = tf.tensor4d(weights, poolOutputShape(c));
      return tf
        .grad((d: tf.Tensor) => tf.sum(tf.mul(w, maxPoolSelect(d as tf.Tensor4D, input, attrs)!)))(
          tf.zeros(c.inputShape),
        )
        .dataSync();
    });
    const expected = await runKernelOnTier(
      'cpu',
      tf.MaxPoolGrad,
      {
        dy: { shape: poolOutputShape(c), values: weights },
        input: { shape: c.inputShape, values: x },
        output: {
          shape: poolOutputShape(c),
          values: (await runKernelOnTier('cpu', tf.MaxPool, { x: { shape: c.inputShape, values: x } }, attrs))
            .values as Float32Array,
        },
      },
      attrs,
    );
    expect(Array.from(gradient)).toEqual(Array.from(expected.values));
  });
});
