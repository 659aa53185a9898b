import type { MetricRecord } from '@fisherlab/analysis';
import { describe, expect, it } from 'vitest';
import { fitBudget, fitEpochOf, memorizationAreas } from './fit.js';

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

describe('the area under the memorization curves', () => {
  it('averages clean and noisy training accuracy over the evaluations after step 0', () => {
    const records: MetricRecord[] = [
      { kind: 'eval', step: 0, epoch: 0, time: 0, trainCleanAccuracy: 0.1, trainNoisyAccuracy: 0.1 },
      { kind: 'eval', step: 10, epoch: 1, time: 1, trainCleanAccuracy: 0.8, trainNoisyAccuracy: 0.2 },
      { kind: 'eval', step: 20, epoch: 2, time: 2, trainCleanAccuracy: 1, trainNoisyAccuracy: 0.6 },
      { kind: 'eval', step: 30, epoch: 3, time: 3, testAccuracy: 0.5 },
    ];
    const areas = memorizationAreas(records);
    expect(areas.meanTrainCleanAccuracy).toBeCloseTo(0.9, 12);
    expect(areas.meanTrainNoisyAccuracy).toBeCloseTo(0.4, 12);
    expect(memorizationAreas(evals([1, 1]))).toEqual({
      meanTrainCleanAccuracy: null,
      meanTrainNoisyAccuracy: null,
    });
  });
});
