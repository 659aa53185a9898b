import { initBackend, tf } from '@fisherlab/engine';
import { beforeAll, describe, expect, it } from 'vitest';
import { explainOutOfMemory, type ObjectiveRequest } from './objective.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

describe('explainOutOfMemory', () => {
  const request: ObjectiveRequest = {
    x: tf.zeros([32, 4]),
    penaltyLabels: tf.zeros([32], 'int32') as tf.Tensor1D,
    alpha: 0.1,
    excludeBatchNorm: false,
    method: 'exact',
    radius: 1e-3,
    training: true,
  };

  it("turns wasm's out-of-heap failure into an error naming the batch size and the remedies", () => {
    const wrapped = explainOutOfMemory(
      new TypeError("Cannot read properties of undefined (reading 'map')"),
      request,
    );
    expect(String(wrapped)).toMatch(
      /ran out of memory at batch size 32 while building the exact second-order/,
    );
    expect(String(wrapped)).toMatch(/smaller batch.*every k steps.*finite-difference/);
  });

  it('recognises the bare Aborted() and out-of-bounds messages of a full wasm heap', () => {
    for (const message of [
      'Aborted(). Build with -sASSERTIONS for more info.',
      'memory access out of bounds',
    ]) {
      expect(String(explainOutOfMemory(new Error(message), request))).toMatch(
        /ran out of memory at batch size 32/,
      );
    }
  });

  it('passes other errors through unchanged', () => {
    const other = new Error('shapes do not match');
    expect(explainOutOfMemory(other, request)).toBe(other);
  });
});
