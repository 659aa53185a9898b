import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { runKernelOn } from './fixtures/against-cpu.js';
import { poolCases, poolInputs } from './fixtures/pool-cases.js';

describe('MaxPoolWithArgmax on wasm', () => {
  // TensorFlow's MaxPoolWithArgmax takes 'same' or 'valid' padding only.
  const cases = poolCases().filter(([, c]) => typeof c.pad === 'string');
  it.each(cases)('matches the cpu backend: %s', async (_name, c) => {
    const { x } = poolInputs(c);
    for (const includeBatchInIndex of [true, false]) {
      const attrs = { filterSize: c.filterSize, strides: c.strides, pad: c.pad, includeBatchInIndex };
      const inputs = { x: { shape: c.inputShape, values: x } };
      const [wasmValues, wasmIndexes] = await runKernelOn('wasm', tf.MaxPoolWithArgmax, inputs, attrs);
      const [cpuValues, cpuIndexes] = await runKernelOn('cpu', tf.MaxPoolWithArgmax, inputs, attrs);
      expect(wasmValues?.shape).toEqual(cpuValues?.shape);
      expect(Array.from(wasmValues?.values ?? [])).toEqual(Array.from(cpuValues?.values ?? []));
      expect(Array.from(wasmIndexes?.values ?? [])).toEqual(Array.from(cpuIndexes?.values ?? []));
    }
  });
});
