import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ensureWasm, runKernelOn } from './fixtures/against-cpu.js';

describe('Identity and same-dtype Cast on wasm share their input data', () => {
  it('a clone holds no second copy, reads the same values, and outlives its source', async () => {
    await ensureWasm();
    const x = tf.randomNormal([64, 1024], 0, 1, 'float32', 5);
    const values = x.dataSync().slice();
    const before = tf.memory().numDataBuffers;
    const copy = tf.clone(x);
    const sameType = tf.cast(x, 'float32');
    expect(tf.memory().numDataBuffers).toBe(before);
    x.dispose();
    expect(Array.from(copy.dataSync())).toEqual(Array.from(values));
    expect(Array.from(sameType.dataSync())).toEqual(Array.from(values));
    copy.dispose();
    expect(Array.from(sameType.dataSync())).toEqual(Array.from(values));
    sameType.dispose();
  });

  it('a variable update does not reach a tensor cloned from it earlier (the saved-for-backward case)', async () => {
    await ensureWasm();
    const v = tf.variable(tf.tensor1d([1, 2, 3]));
    const saved = tf.clone(v);
    v.assign(tf.tensor1d([7, 8, 9]));
    expect(Array.from(saved.dataSync())).toEqual([1, 2, 3]);
    expect(Array.from(v.dataSync())).toEqual([7, 8, 9]);
    tf.dispose([v, saved]);
  });

  it('casts to another dtype convert as on the cpu backend (to bool: x ≠ 0, where stock wasm wrapped -2.7 to 254)', async () => {
    const values = Float32Array.from([-2.7, -0.5, 0, 0.49, 1.5, 3.99]);
    const inputs = { x: { shape: [6], values } };
    for (const dtype of ['int32', 'bool'] as const) {
      const [onWasm] = await runKernelOn('wasm', tf.Cast, inputs, { dtype });
      const [onCpu] = await runKernelOn('cpu', tf.Cast, inputs, { dtype });
      expect(Array.from(onWasm?.values ?? [])).toEqual(Array.from(onCpu?.values ?? []));
    }
    const ints = { x: { shape: [3], values: Float32Array.from([4, -1, 9]), dtype: 'int32' as const } };
    const [toFloat] = await runKernelOn('wasm', tf.Cast, ints, { dtype: 'float32' });
    expect(Array.from(toFloat?.values ?? [])).toEqual([4, -1, 9]);
  });
});
