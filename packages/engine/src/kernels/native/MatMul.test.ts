import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { normals, relativeErrors } from '../wasm/fixtures/against-cpu.js';
import { matMulCases, matMulInputs } from '../wasm/fixtures/matmul-cases.js';
import { NATIVE_TIERS, nativeAddonForTests, runKernelOnTier, skipNote } from './fixtures/native-tier.js';

describe.skipIf(!nativeAddonForTests).each(NATIVE_TIERS)(
  `BatchMatMul and _FusedMatMul on %s${skipNote}`,
  (tier) => {
    it.each(matMulCases())('BatchMatMul matches the cpu backend: %s', async (_name, c) => {
      const { a, b } = matMulInputs(c);
      const inputs = { a: { shape: c.aShape, values: a }, b: { shape: c.bShape, values: b } };
      const attrs = { transposeA: c.transposeA, transposeB: c.transposeB };
      const native = await runKernelOnTier(tier, tf.BatchMatMul, inputs, attrs);
      const cpu = await runKernelOnTier('cpu', tf.BatchMatMul, inputs, attrs);
      expect(native.shape).toEqual(cpu.shape);
      expect(relativeErrors(native.values, cpu.values).max).toBeLessThan(1e-5);
    });

    // tf.fused.matMul hands the kernel rank-3 operands; elu and prelu take the wasm path.
    const fusedCases = matMulCases().filter(([, c]) => c.aShape.length === 3);
    it.each(fusedCases)('_FusedMatMul matches the cpu backend with bias: %s', async (_name, c) => {
      const { a, b } = matMulInputs(c);
      const columns = c.bShape[c.bShape.length - (c.transposeB ? 2 : 1)] as number;
      const inputs = {
        a: { shape: c.aShape, values: a },
        b: { shape: c.bShape, values: b },
        bias: { shape: [columns], values: normals(columns, 5) },
        preluActivationWeights: { shape: [columns], values: normals(columns, 6) },
      };
      for (const activation of ['linear', 'relu', 'elu', 'prelu']) {
        const attrs = { transposeA: c.transposeA, transposeB: c.transposeB, activation, leakyreluAlpha: 0.2 };
        const native = await runKernelOnTier(tier, tf._FusedMatMul, inputs, attrs);
        const cpu = await runKernelOnTier('cpu', tf._FusedMatMul, inputs, attrs);
        expect(native.shape, activation).toEqual(cpu.shape);
        expect(relativeErrors(native.values, cpu.values).max, activation).toBeLessThan(1e-5);
      }
    });
  },
);
