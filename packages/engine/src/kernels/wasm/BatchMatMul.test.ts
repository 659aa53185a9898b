import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { relativeErrors, runKernelOn } from './fixtures/against-cpu.js';
import { matMulCases, matMulInputs } from './fixtures/matmul-cases.js';

describe('BatchMatMul on wasm', () => {
  it.each(matMulCases())('matches the cpu backend: %s', async (_name, c) => {
    const { a, b } = matMulInputs(c);
    const inputs = { a: { shape: c.aShape, values: a }, b: { shape: c.bShape, values: b } };
    const attrs = { transposeA: c.transposeA, transposeB: c.transposeB };
    const [wasm] = await runKernelOn('wasm', tf.BatchMatMul, inputs, attrs);
    const [cpu] = await runKernelOn('cpu', tf.BatchMatMul, inputs, attrs);
    expect(wasm?.shape).toEqual(cpu?.shape);
    expect(relativeErrors(wasm?.values ?? [], cpu?.values ?? []).max).toBeLessThan(1e-5);
  });
});
