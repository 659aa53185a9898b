import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { normals, relativeErrors, sizeOf } from '../wasm/fixtures/against-cpu.js';
import { NATIVE_TIERS, nativeAddonForTests, runKernelOnTier, skipNote } from './fixtures/native-tier.js';

describe.skipIf(!nativeAddonForTests).each(NATIVE_TIERS)(`FusedBatchNorm on %s${skipNote}`, (tier) => {
  const shapes: number[][] = [
    [2, 3, 3, 4],
    [128, 4, 4, 8],
    [5, 7],
    [64, 16, 16, 64],
  ];
  for (const shape of shapes) {
    for (const params of ['offset and scale', 'scale only', 'neither'] as const) {
      it(`matches the cpu backend: x ${shape.join('x')}, ${params}`, async () => {
        const channels = shape[shape.length - 1]!;
        const inputs: Parameters<typeof runKernelOnTier>[2] = {
          x: { shape, values: normals(sizeOf(shape), 3) },
          mean: { shape: [channels], values: normals(channels, 4) },
          variance: { shape: [channels], values: normals(channels, 5).map((v) => v * v + 0.1) },
        };
        if (params === 'offset and scale')
          inputs['offset'] = { shape: [channels], values: normals(channels, 6) };
        if (params !== 'neither') inputs['scale'] = { shape: [channels], values: normals(channels, 7) };
        const attrs = { varianceEpsilon: 1e-3 };
        const native = await runKernelOnTier(tier, tf.FusedBatchNorm, inputs, attrs);
        const cpu = await runKernelOnTier('cpu', tf.FusedBatchNorm, inputs, attrs);
        expect(native.shape).toEqual(shape);
        const error = relativeErrors(native.values, cpu.values);
        expect(error.l2).toBeLessThan(1e-6);
        expect(error.max).toBeLessThan(1e-5);
      });
    }
  }

  it('hands statistics of another shape to the wasm kernel (one per (column, channel))', async () => {
    const shape = [2, 3, 3, 4];
    const inputs = {
      x: { shape, values: normals(sizeOf(shape), 3) },
      mean: { shape: [3, 4], values: normals(12, 4) },
      variance: { shape: [3, 4], values: normals(12, 5).map((v) => v * v + 0.1) },
    };
    const native = await runKernelOnTier(tier, tf.FusedBatchNorm, inputs, { varianceEpsilon: 1e-3 });
    const cpu = await runKernelOnTier('cpu', tf.FusedBatchNorm, inputs, { varianceEpsilon: 1e-3 });
    expect(relativeErrors(native.values, cpu.values).max).toBeLessThan(1e-5);
  });
});
