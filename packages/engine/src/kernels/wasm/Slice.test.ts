import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ensureWasm, normals, runKernelOn } from './fixtures/against-cpu.js';

/** Slice and the kernels built on it, on wasm against the cpu backend, every dtype they take. */
describe('Slice, SplitV, Unpack and StridedSlice on wasm', () => {
  const shape = [3, 4, 5, 6];
  const values = normals(3 * 4 * 5 * 6, 7);
  const boxes: [string, number[], number[]][] = [
    ['leading axis (contiguous)', [1, 0, 0, 0], [2, 4, 5, 6]],
    ['one image', [2, 0, 0, 0], [1, -1, -1, -1]],
    ['inner rows', [0, 1, 0, 0], [3, 2, 5, 6]],
    ['inner box', [1, 1, 2, 3], [2, 3, 2, 2]],
    ['last axis only', [0, 0, 0, 5], [3, 4, 5, 1]],
    ['empty', [0, 0, 0, 0], [3, 0, 5, 6]],
  ];
  for (const [name, begin, size] of boxes) {
    it(`Slice equals cpu: ${name}`, async () => {
      for (const dtype of ['float32', 'int32'] as const) {
        const inputs = {
          x: { shape, values: dtype === 'int32' ? values.map((v) => Math.round(v * 9)) : values, dtype },
        };
        const [wasm] = await runKernelOn('wasm', tf.Slice, inputs, { begin, size });
        const [cpu] = await runKernelOn('cpu', tf.Slice, inputs, { begin, size });
        expect(wasm?.shape).toEqual(cpu?.shape);
        expect(Array.from(wasm?.values ?? [])).toEqual(Array.from(cpu?.values ?? []));
      }
    });
  }

  it('Slice of rank 1 and of bool tensors', async () => {
    await ensureWasm();
    const flags = tf.tensor1d([true, false, true, true, false], 'bool');
    expect(Array.from(tf.slice(flags, 1, 3).dataSync())).toEqual([0, 1, 1]);
    const scalarLike = tf.tensor1d([1, 2, 3, 4]);
    expect(Array.from(tf.slice(scalarLike, [2], [2]).dataSync())).toEqual([3, 4]);
    tf.dispose([flags, scalarLike]);
  });

  it('SplitV and Unpack equal cpu along each axis, and free nothing they return', async () => {
    const inputs = { x: { shape, values } };
    for (let axis = 0; axis < 4; axis++) {
      const sizes = axis === 2 ? [1, 3, 1] : [1, shape[axis]! - 1];
      const wasm = await runKernelOn('wasm', tf.SplitV, inputs, { numOrSizeSplits: sizes, axis });
      const cpu = await runKernelOn('cpu', tf.SplitV, inputs, { numOrSizeSplits: sizes, axis });
      expect(wasm.map((r) => r.shape)).toEqual(cpu.map((r) => r.shape));
      wasm.forEach((r, i) => {
        expect(Array.from(r.values)).toEqual(Array.from(cpu[i]!.values));
      });
      const unpackedWasm = await runKernelOn('wasm', tf.Unpack, { value: inputs.x }, { axis });
      const unpackedCpu = await runKernelOn('cpu', tf.Unpack, { value: inputs.x }, { axis });
      expect(unpackedWasm.map((r) => r.shape)).toEqual(unpackedCpu.map((r) => r.shape));
      unpackedWasm.forEach((r, i) => {
        expect(Array.from(r.values)).toEqual(Array.from(unpackedCpu[i]!.values));
      });
    }
    await ensureWasm();
    const before = tf.memory().numTensors;
    const x = tf.tensor4d(values, shape as [number, number, number, number]);
    const parts = tf.split(x, 3, 0);
    x.dispose();
    expect(parts.map((p) => p.dataSync()[0])).toEqual([values[0], values[120], values[240]]);
    tf.dispose(parts);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('StridedSlice equals cpu: unit-stride boxes, shrink and new axes, negative and non-unit strides', async () => {
    const inputs = { x: { shape, values } };
    const cases: tf.NamedAttrMap[] = [
      { begin: [1, 0, 0, 0], end: [3, 4, 5, 6], strides: [1, 1, 1, 1] },
      { begin: [0, 1, 2, 0], end: [3, 3, 4, 6], strides: [1, 1, 1, 1] },
      { begin: [1, 0, 0, 0], end: [2, 4, 5, 6], strides: [1, 1, 1, 1], shrinkAxisMask: 1 },
      { begin: [0, 0, 0, 0], end: [3, 4, 5, 6], strides: [1, 1, 1, 1], newAxisMask: 2 },
      { begin: [0, 0, 0, 0], end: [3, 4, 5, 6], strides: [1, 2, 1, 3] },
      { begin: [2, 3, 4, 5], end: [0, 0, 0, 0], strides: [-1, -1, -2, -1] },
    ];
    for (const attrs of cases) {
      const full = { beginMask: 0, endMask: 0, ellipsisMask: 0, newAxisMask: 0, shrinkAxisMask: 0, ...attrs };
      const [wasm] = await runKernelOn('wasm', tf.StridedSlice, inputs, full);
      const [cpu] = await runKernelOn('cpu', tf.StridedSlice, inputs, full);
      expect(wasm?.shape).toEqual(cpu?.shape);
      expect(Array.from(wasm?.values ?? [])).toEqual(Array.from(cpu?.values ?? []));
    }
    // begin past end: an empty result (stock wasm and cpu both fail to reshape it in tfjs 4.22).
    const empty = { begin: [2, 0, 0, 0], end: [1, 4, 5, 6], strides: [1, 1, 1, 1] };
    const [wasm] = await runKernelOn('wasm', tf.StridedSlice, inputs, empty);
    expect(wasm?.shape).toEqual([0, 4, 5, 6]);
    expect(wasm?.values).toHaveLength(0);
  });
});
