import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { relativeErrors } from '../wasm/fixtures/against-cpu.js';
import { poolCases, poolInputs, poolOutputShape } from '../wasm/fixtures/pool-cases.js';
import { NATIVE_TIERS, nativeAddonForTests, runKernelOnTier, skipNote } from './fixtures/native-tier.js';

describe.skipIf(!nativeAddonForTests).each(NATIVE_TIERS)(`MaxPoolGrad on %s${skipNote}`, (tier) => {
  it.each(poolCases())('matches the cpu backend: %s', async (_name, c) => {
    const { x, dy } = poolInputs(c);
    const poolAttrs = { filterSize: c.filterSize, strides: c.strides, pad: c.pad };
    const y = await runKernelOnTier('cpu', tf.MaxPool, { x: { shape: c.inputShape, values: x } }, poolAttrs);
    const inputs = {
      dy: { shape: poolOutputShape(c), values: dy },
      input: { shape: c.inputShape, values: x },
      output: { shape: poolOutputShape(c), values: y.values as Float32Array },
    };
    const native = await runKernelOnTier(tier, tf.MaxPoolGrad, inputs, poolAttrs);
    const cpu = await runKernelOnTier('cpu', tf.MaxPoolGrad, inputs, poolAttrs);
    expect(native.shape).toEqual(c.inputShape);
    // Each dx entry is a sum of a few dy entries: only float32 rounding of those sums may differ.
    expect(relativeErrors(native.values, cpu.values).max).toBeLessThan(1e-6);
  });
});
