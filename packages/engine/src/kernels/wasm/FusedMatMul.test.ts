import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { normals, relativeErrors, runKernelOn } from './fixtures/against-cpu.js';
import { matMulCases, matMulInputs } from './fixtures/matmul-cases.js';

describe('_FusedMatMul on wasm', () => {
  // tf.fused.matMul always hands the kernel rank-3 operands.
  const cases = matMulCases().filter(([, c]) => c.aShape.length === 3);
  const activations = ['linear', 'relu', 'relu6', 'elu', 'sigmoid', 'leakyrelu', 'prelu'];
  it.each(cases)('matches the cpu backend with bias, for every activation: %s', async (_name, c) => {
    const { a, b } = matMulInputs(c);
    const columns = c.bShape[c.bShape.length - (c.transposeB ? 2 : 1)] as number;
    const inputs = {
      a: { shape: c.aShape, values: a },
      b: { shape: c.bShape, values: b },
      bias: { shape: [columns], values: normals(columns, 5) },
      preluActivationWeights: { shape: [columns], values: normals(columns, 6) },
    };
    for (const activation of activations) {
      const attrs = { transposeA: c.transposeA, transposeB: c.transposeB, activation, leakyreluAlpha: 0.2 };
      const [wasm] = await runKernelOn('wasm', tf._FusedMatMul, inputs, attrs);
      const [cpu] = await runKernelOn('cpu', tf._FusedMatMul, inputs, attrs);
      expect(wasm?.shape, activation).toEqual(cpu?.shape);
      expect(relativeErrors(wasm?.values ?? [], cpu?.values ?? []).max, activation).toBeLessThan(1e-5);
    }
  });
});
