import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { normals, relativeErrors, runKernelOn, sizeOf } from './fixtures/against-cpu.js';
import { reductionCases } from './fixtures/reduction-cases.js';

describe('Sum on wasm', () => {
  it.each(reductionCases())('matches the cpu backend: %s', async (_name, c) => {
    const inputs = {
      x: { shape: c.shape, values: normals(sizeOf(c.shape), sizeOf(c.shape) + c.axis.length) },
    };
    const attrs = { axis: c.axis, keepDims: c.keepDims };
    const [wasm] = await runKernelOn('wasm', tf.Sum, inputs, attrs);
    const [cpu] = await runKernelOn('cpu', tf.Sum, inputs, attrs);
    expect(wasm?.shape).toEqual(cpu?.shape);
    // float32 accumulation over up to 131,072 terms (cpu accumulates in float64).
    expect(relativeErrors(wasm?.values ?? [], cpu?.values ?? []).l2).toBeLessThan(2e-5);
  });
});
