// oneDNN reads its ISA limit once, at its first primitive: set it before this file's process uses
// the addon (vitest runs each test file in its own process).
process.env['ONEDNN_MAX_CPU_ISA'] = 'AVX2';

import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { normals, relativeErrors } from '../wasm/fixtures/against-cpu.js';
import { NATIVE_TIERS, nativeAddonForTests, runKernelOnTier, skipNote } from './fixtures/native-tier.js';

// On AVX2, oneDNN 2.6.3 offers only its jit gemm (which corrupts the C heap) for matrix products
// and for some convolutions: the addon declines those shapes and the wasm kernel runs instead.
describe.skipIf(!nativeAddonForTests).each(NATIVE_TIERS)(
  `shapes with only jit-gemm implementations on %s${skipNote}`,
  (tier) => {
    it('the addon declines a matrix product it could only do with jit gemm, computing nothing', () => {
      const addon = nativeAddonForTests!;
      const [m, n, k] = [64, 32, 128];
      const c = new Float32Array(m * n).fill(7);
      const computed = addon.matmul(
        1,
        1,
        m,
        n,
        k,
        false,
        false,
        normals(m * k, 1),
        normals(k * n, 2),
        null,
        false,
        c,
      );
      expect(computed).toBe(false);
      expect(c.every((v) => v === 7)).toBe(true);
    });

    it('the kernels then fall back to wasm and match the cpu backend, many calls without heap damage', async () => {
      const inputs = {
        a: { shape: [1, 64, 128], values: normals(64 * 128, 3) },
        b: { shape: [1, 128, 32], values: normals(128 * 32, 4) },
      };
      const attrs = { transposeA: false, transposeB: false };
      const cpu = await runKernelOnTier('cpu', tf.BatchMatMul, inputs, attrs);
      for (let i = 0; i < 50; i++) {
        const native = await runKernelOnTier(tier, tf.BatchMatMul, inputs, attrs);
        expect(relativeErrors(native.values, cpu.values).max).toBeLessThan(1e-5);
      }
      const conv = {
        x: { shape: [4, 16, 16, 3], values: normals(4 * 16 * 16 * 3, 5) },
        dy: { shape: [4, 16, 16, 8], values: normals(4 * 16 * 16 * 8, 6) },
      };
      const convAttrs = {
        strides: [1, 1],
        pad: 'same',
        dataFormat: 'NHWC',
        dimRoundingMode: undefined,
        filterShape: [3, 3, 3, 8],
      };
      const cpuFilter = await runKernelOnTier(
        'cpu',
        tf.Conv2DBackpropFilter,
        conv,
        convAttrs as unknown as tf.NamedAttrMap,
      );
      const nativeFilter = await runKernelOnTier(
        tier,
        tf.Conv2DBackpropFilter,
        conv,
        convAttrs as unknown as tf.NamedAttrMap,
      );
      expect(relativeErrors(nativeFilter.values, cpuFilter.values).max).toBeLessThan(1e-4);
    });
  },
);
