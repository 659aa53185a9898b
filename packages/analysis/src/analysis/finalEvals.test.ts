import * as aq from 'arquero';
import { describe, expect, it } from 'vitest';
import { finalEvals } from './finalEvals.js';

const cols = [
  'runId',
  'step',
  'epoch',
  'trainAccuracy',
  'trainCleanAccuracy',
  'trainNoisyAccuracy',
  'valAccuracy',
  'testAccuracy',
];
const row = (
  runId: string,
  epoch: number,
  train: number | null,
  test: number | null,
  clean: number | null = null,
  noisy: number | null = null,
) => ({
  runId,
  step: epoch * 100,
  epoch,
  trainAccuracy: train,
  trainCleanAccuracy: clean,
  trainNoisyAccuracy: noisy,
  valAccuracy: null,
  testAccuracy: test,
});

describe('final evaluations', () => {
  // Rows deliberately out of step order: the reader must not rely on file order.
  const evals = aq.from(
    [
      row('a', 3, 0.95, 0.8),
      row('a', 1, 0.6, 0.55),
      row('a', 2, 0.9, 0.83),
      row('b', 1, 0.7, null),
      row('b', 2, null, 0.6, 0.9, 0.3),
    ],
    cols,
  );
  const f = finalEvals(evals);
  it('final and best test accuracy, and the gap at the last epoch', () => {
    const a = f.get('a')!;
    expect(a.finalTestAccuracy).toBe(0.8);
    expect(a.finalEpoch).toBe(3);
    expect(a.bestTestAccuracy).toBe(0.83);
    expect(a.bestTestEpoch).toBe(2);
    expect(a.gap).toBeCloseTo(0.95 - 0.8, 12);
    expect(a.gapEpoch).toBe(3);
  });
  it('uses the last evaluation measuring each quantity, and no gap without a shared epoch', () => {
    const b = f.get('b')!;
    expect(b.finalTrainAccuracy).toBe(0.7);
    expect(b.finalTestAccuracy).toBe(0.6);
    expect(b.gap).toBeNull();
    expect(b.finalTrainCleanAccuracy).toBe(0.9);
    expect(b.finalTrainNoisyAccuracy).toBe(0.3);
  });
  it('tail means average the last k evaluations measuring each quantity, in step order', () => {
    const a = f.get('a')!;
    expect(a.tailTestAccuracy).toBeCloseTo((0.55 + 0.83 + 0.8) / 3, 12);
    expect(a.tailTrainAccuracy).toBeCloseTo((0.6 + 0.9 + 0.95) / 3, 12);
    expect(a.tailEvaluations).toBe(3);
    const two = finalEvals(evals, 2).get('a')!;
    expect(two.tailTestAccuracy).toBeCloseTo((0.83 + 0.8) / 2, 12);
    const b = finalEvals(evals, 2).get('b')!;
    // One test measurement only: its mean is that value, over one evaluation.
    expect(b.tailTestAccuracy).toBe(0.6);
    expect(b.tailEvaluations).toBe(1);
    expect(b.tailTrainNoisyAccuracy).toBe(0.3);
  });
  it('refuses a tail that is not a positive whole number', () => {
    expect(() => finalEvals(evals, 0)).toThrow(/tailEvaluations/);
  });
});
