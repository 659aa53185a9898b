import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { normals, relativeErrors, sizeOf } from '../wasm/fixtures/against-cpu.js';
import { reductionCases } from '../wasm/fixtures/reduction-cases.js';
import { NATIVE_TIERS, nativeAddonForTests, runKernelOnTier, skipNote } from './fixtures/native-tier.js';

describe.skipIf(!nativeAddonForTests).each(NATIVE_TIERS)(`Sum and Mean on %s${skipNote}`, (tier) => {
  it.each(reductionCases())('match the cpu backend: %s', async (_name, c) => {
    const inputs = {
      x: { shape: c.shape, values: normals(sizeOf(c.shape), sizeOf(c.shape) + c.axis.length) },
    };
    const attrs = { axis: c.axis, keepDims: c.keepDims };
    for (const kernel of [tf.Sum, tf.Mean]) {
      const native = await runKernelOnTier(tier, kernel, inputs, attrs);
      const cpu = await runKernelOnTier('cpu', kernel, inputs, attrs);
      expect(native.shape, kernel).toEqual(cpu.shape);
      // Both accumulate in float64; the stock (non-leading axes) path accumulates in float32.
      expect(relativeErrors(native.values, cpu.values).l2, kernel).toBeLessThan(2e-5);
    }
  });
});
