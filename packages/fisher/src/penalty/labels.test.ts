import { describe, expect, it } from 'vitest';
import { samplePenaltyLabels } from './labels.js';

describe('samplePenaltyLabels', () => {
  const probabilities = Float32Array.from([0.7, 0.2, 0.1, 0.05, 0.05, 0.9]);

  it('is deterministic in (seed, step) and changes with the step', () => {
    const rows = Float32Array.from(Array.from({ length: 200 }, () => [...probabilities]).flat());
    const a = samplePenaltyLabels(rows, 3, 7, 4);
    expect(samplePenaltyLabels(rows, 3, 7, 4)).toEqual(a);
    expect(samplePenaltyLabels(rows, 3, 7, 5)).not.toEqual(a);
    expect(samplePenaltyLabels(rows, 3, 8, 4)).not.toEqual(a);
  });

  it('draws each class with its probability (within 4 binomial standard errors)', () => {
    const n = 20000;
    const rows = new Float32Array(n * 3);
    for (let i = 0; i < n; i++) rows.set(probabilities.subarray(0, 3), i * 3);
    const labels = samplePenaltyLabels(rows, 3, 1, 0);
    for (const [c, p] of [0.7, 0.2, 0.1].entries()) {
      const frequency = labels.filter((l) => l === c).length / n;
      expect(Math.abs(frequency - p)).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / n));
    }
  });

  it('never returns a class without mass, even when a row sums to less than one', () => {
    const labels = samplePenaltyLabels(Float32Array.from([0, 0.5, 0.49, 0]), 4, 3, 0);
    expect([1, 2]).toContain(labels[0]);
  });
});
