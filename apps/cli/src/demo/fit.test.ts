import type { MetricRecord } from '@fisherlab/analysis';
import { describe, expect, it } from 'vitest';
import { fitBudget, fitEpochOf } from './fit.js';

const evals = (accuracies: number[]): MetricRecord[] =>
  accuracies.map((trainAccuracy, i) => ({
    kind: 'eval',
    step: 10 * i,
    epoch: 2 * i,
    time: i,
    trainAccuracy,
  }));

describe('when a run fit its training data', () => {
  it('is the first evaluation whose window of the last evaluations averages the threshold', () => {
    // One evaluation at 99.5% among lower ones is not a fit; three averaging ≥ 99% are (epoch 2 × 5).
    expect(fitEpochOf(evals([0.5, 0.9, 0.995, 0.97, 0.99, 0.992, 0.995]), 0.99, 3)).toBe(12);
    expect(fitEpochOf(evals([0.5, 0.9, 0.995, 0.97, 0.99, 0.992, 0.995]), 0.99, 1)).toBe(4);
  });

  it('is null when the run never fits, and ignores records without a training accuracy', () => {
    expect(fitEpochOf(evals([0.5, 0.98, 0.985, 0.989]), 0.99, 3)).toBeNull();
    const mixed: MetricRecord[] = [
      ...evals([1, 1]),
      { kind: 'eval', step: 30, epoch: 6, time: 3, testAccuracy: 0.8 },
      { kind: 'train', step: 31, epoch: 6.1, time: 3, lr: 0.1, loss: 0.1, accuracy: 1, penalty: null },
    ];
    expect(fitEpochOf(mixed, 0.99, 3)).toBeNull();
    expect(fitEpochOf(mixed, 0.99, 2)).toBe(2);
  });

  it('budgets the latest fit of all seeds with a margin, or none when a seed never fit', () => {
    expect(fitBudget([12, 20, 16], 1.25)).toBe(25);
    expect(fitBudget([12, null], 1.25)).toBeNull();
    expect(fitBudget([], 1.25)).toBeNull();
  });
});
