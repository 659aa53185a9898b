import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ensureWasm } from './fixtures/against-cpu.js';
import { WASM_KERNEL_CONFIGS } from './index.js';

describe('wasm kernel registration', () => {
  it('replaces the stock kernels when the wasm backend is selected', async () => {
    await ensureWasm();
    expect(WASM_KERNEL_CONFIGS.map((k) => k.kernelName).sort()).toEqual(
      [
        'AvgPoolGrad',
        'BatchMatMul',
        'Cast',
        'Identity',
        '_FusedMatMul',
        'FusedConv2D',
        'Conv2DBackpropFilter',
        'Conv2DBackpropInput',
        'MaxPoolGrad',
        'MaxPoolWithArgmax',
        'Mean',
        'Slice',
        'SplitV',
        'StridedSlice',
        'Sum',
        'Unpack',
      ].sort(),
    );
    for (const config of WASM_KERNEL_CONFIGS) {
      expect(tf.getKernel(config.kernelName, 'wasm')?.kernelFunc).toBe(config.kernelFunc);
    }
  });
});
