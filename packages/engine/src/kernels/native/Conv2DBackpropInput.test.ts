import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { dot, relativeErrors } from '../wasm/fixtures/against-cpu.js';
import { convCases, convInputs, outputShape } from '../wasm/fixtures/conv-cases.js';
import { NATIVE_TIERS, nativeAddonForTests, runKernelOnTier, skipNote } from './fixtures/native-tier.js';

describe.skipIf(!nativeAddonForTests).each(NATIVE_TIERS)(`Conv2DBackpropInput on %s${skipNote}`, (tier) => {
  it.each(convCases())('matches the cpu backend: %s', async (_name, c) => {
    const { x, dy, filter } = convInputs(c);
    const attrs = { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', inputShape: c.inputShape };
    const inputs = {
      dy: { shape: outputShape(c), values: dy },
      filter: { shape: c.filterShape, values: filter },
    };
    const native = await runKernelOnTier(tier, tf.Conv2DBackpropInput, inputs, attrs);
    const cpu = await runKernelOnTier('cpu', tf.Conv2DBackpropInput, inputs, attrs);
    expect(native.shape).toEqual(c.inputShape);
    const error = relativeErrors(native.values, cpu.values);
    expect(error.l2).toBeLessThan(1e-5);
    expect(error.max).toBeLessThan(1e-4);

    // Adjoint identity, independent of both backward kernels: <conv2d(x, W), dy> = <x, dx(dy, W)>.
    const y = await runKernelOnTier(
      'cpu',
      tf.Conv2D,
      { x: { shape: c.inputShape, values: x }, filter: { shape: c.filterShape, values: filter } },
      { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', dilations: [1, 1] },
    );
    const lhs = dot(y.values, dy);
    const rhs = dot(x, native.values);
    expect(Math.abs(lhs - rhs)).toBeLessThan(1e-5 * (Math.abs(lhs) + Math.sqrt(dy.length)));
  });
});
