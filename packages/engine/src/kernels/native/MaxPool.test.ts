import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { poolCases, poolInputs } from '../wasm/fixtures/pool-cases.js';
import { NATIVE_TIERS, nativeAddonForTests, runKernelOnTier, skipNote } from './fixtures/native-tier.js';

describe.skipIf(!nativeAddonForTests).each(NATIVE_TIERS)(`MaxPool on %s${skipNote}`, (tier) => {
  it.each(poolCases())('equals the cpu backend exactly: %s', async (_name, c) => {
    const { x } = poolInputs(c);
    const attrs = { filterSize: c.filterSize, strides: c.strides, pad: c.pad };
    const inputs = { x: { shape: c.inputShape, values: x } };
    const native = await runKernelOnTier(tier, tf.MaxPool, inputs, attrs);
    const cpu = await runKernelOnTier('cpu', tf.MaxPool, inputs, attrs);
    expect(native.shape).toEqual(cpu.shape);
    expect(Array.from(native.values)).toEqual(Array.from(cpu.values));
  });
});
