import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { relativeErrors, runKernelOn } from './fixtures/against-cpu.js';
import { poolCases, poolInputs, poolOutputShape } from './fixtures/pool-cases.js';

describe('MaxPoolGrad on wasm', () => {
  it.each(poolCases())('matches the cpu backend: %s', async (_name, c) => {
    const { x, dy } = poolInputs(c);
    const poolAttrs = { filterSize: c.filterSize, strides: c.strides, pad: c.pad };
    const [y] = await runKernelOn('cpu', tf.MaxPool, { x: { shape: c.inputShape, values: x } }, poolAttrs);
    const inputs = {
      dy: { shape: poolOutputShape(c), values: dy },
      input: { shape: c.inputShape, values: x },
      output: { shape: poolOutputShape(c), values: y?.values as Float32Array },
    };
    const [wasm] = await runKernelOn('wasm', tf.MaxPoolGrad, inputs, poolAttrs);
    const [cpu] = await runKernelOn('cpu', tf.MaxPoolGrad, inputs, poolAttrs);
    expect(wasm?.shape).toEqual(c.inputShape);
    // Each dx entry is a sum of a few dy entries: only float32 rounding of those sums may differ.
    const error = relativeErrors(wasm?.values ?? [], cpu?.values ?? []);
    expect(error.max).toBeLessThan(1e-6);
  });

  it('routes gradients correctly in windows whose values are all negative (stock wasm does not)', async () => {
    // One 2x2 window, all negative, maximum at the bottom right.
    const inputs = {
      dy: { shape: [1, 1, 1, 1], values: Float32Array.of(1) },
      input: { shape: [1, 2, 2, 1], values: Float32Array.of(-4, -3, -2, -1) },
      output: { shape: [1, 1, 1, 1], values: Float32Array.of(-1) },
    };
    const attrs = { filterSize: [2, 2], strides: [2, 2], pad: 'valid' };
    const [wasm] = await runKernelOn('wasm', tf.MaxPoolGrad, inputs, attrs);
    expect(Array.from(wasm?.values ?? [])).toEqual([0, 0, 0, 1]);
  });
});
