import { initBackend, tf } from '@fisherlab/engine';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchesOf } from './data.js';
import { fisherDiagonal } from './diagonal.js';
import { fisherOperator } from './fisher.js';
import { type CurvatureCase, curvatureCase } from './fixtures/cases.js';
import { GGNOperator } from './ggn.js';
import { HessianOperator } from './hessian.js';
import type { CurvatureBatch } from './types.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

describe('curvature operators refuse bad data with the fix', () => {
  let c: CurvatureCase;
  let v: Float64Array;
  beforeAll(() => {
    c = curvatureCase('mlp', 4);
    v = new Float64Array(new GGNOperator(c.model, [{ x: c.x }]).size).fill(1);
  });
  afterAll(() => c.model.dispose());

  it('a generator object is used up after one pass: the second product says how to pass data', async () => {
    function* once(): Generator<CurvatureBatch> {
      yield { x: c.x };
    }
    const operator = new GGNOperator(c.model, once());
    await operator.apply(v);
    await expect(operator.apply(v)).rejects.toThrow(/gave no examples.*\[Symbol\.asyncIterator\]/);
  });

  it('an async iterable that starts a new pass each time works like an array', async () => {
    const stream = {
      async *[Symbol.asyncIterator]() {
        yield { x: c.x, labels: c.labels };
      },
    };
    const fromStream = await new HessianOperator(c.model, stream).apply(v);
    const fromArray = await new HessianOperator(c.model, [{ x: c.x, labels: c.labels }]).apply(v);
    expect(Array.from(fromStream)).toEqual(Array.from(fromArray));
  });

  it('labels that do not fit the loss are named with the batch and the expected form', async () => {
    await expect(new HessianOperator(c.model, [{ x: c.x }]).apply(v)).rejects.toThrow(
      /HessianOperator: batch 0 needs labels as int32 class indices of shape \[batch\] for loss 'cross-entropy', found none/,
    );
    await expect(
      new HessianOperator(c.model, [{ x: c.x, labels: c.labels }], { loss: 'mse' }).apply(v),
    ).rejects.toThrow(
      /needs labels as float targets of shape \[batch, outputs\] for loss 'mse', found int32 of shape \[4\]/,
    );
    await expect(fisherDiagonal(c.model, [{ x: c.x }], { type: 'empirical' })).rejects.toThrow(
      /batch 0 needs labels/,
    );
    const short = tf.slice(c.labels, 0, 3);
    await expect(
      fisherOperator(c.model, [{ x: c.x, labels: short }], { type: 'empirical' }).apply(v),
    ).rejects.toThrow(/batch 0 has 4 inputs but 3 labels/);
    short.dispose();
  });

  it('bad options and vectors are named', async () => {
    expect(() => fisherOperator(c.model, [{ x: c.x }], { type: 'kfac' as never })).toThrow(
      /options.type must be one of exact, mc, empirical/,
    );
    expect(() => new GGNOperator(c.model, [{ x: c.x }], { loss: 'hinge' as never })).toThrow(
      /options.loss must be one of cross-entropy, mse/,
    );
    await expect(new GGNOperator(c.model, [{ x: c.x }]).apply(new Float64Array(3))).rejects.toThrow(
      /the vector has 3 entries but the model has \d+ trainable weights/,
    );
    expect(() => batchesOf({ x: c.x }, 0)).toThrow(/batchSize must be a positive integer/);
  });
});
