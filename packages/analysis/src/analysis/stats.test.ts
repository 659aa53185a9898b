import { describe, expect, it } from 'vitest';
import { meanSpread, pearson, ranks, spearman } from './stats.js';

describe('meanSpread', () => {
  it('matches the hand-computed mean, sample sd and standard error', () => {
    // Σ(v−5)² = 32, so sd = √(32/7), se = sd/√8.
    const s = meanSpread([2, 4, 4, 4, 5, 5, 7, 9]);
    expect(s.mean).toBe(5);
    expect(s.sd).toBeCloseTo(Math.sqrt(32 / 7), 12);
    expect(s.stdErr).toBeCloseTo(Math.sqrt(32 / 7) / Math.sqrt(8), 12);
    expect(s.n).toBe(8);
  });
  it('has no spread for a single value', () => {
    expect(meanSpread([3])).toEqual({ mean: 3, sd: null, stdErr: null, n: 1 });
  });
});

describe('correlations', () => {
  const xs = [1, 2, 3, 4, 5];
  const ys = [2, 4, 5, 4, 5];
  it('Pearson r by hand: Sxy = 6, Sxx = 10, Syy = 6', () => {
    const r = pearson(xs, ys)!;
    expect(r.value).toBeCloseTo(6 / Math.sqrt(60), 12);
    expect(r.stdErr).toBeCloseTo(Math.sqrt((1 - 36 / 60) / 3), 12);
    expect(r.n).toBe(5);
  });
  it('Spearman with ties uses mean ranks: ρ = 7/√90', () => {
    expect(ranks(ys)).toEqual([1, 2.5, 4.5, 2.5, 4.5]);
    expect(spearman(xs, ys)!.value).toBeCloseTo(7 / Math.sqrt(90), 12);
  });
  it('Spearman without ties equals 1 − 6Σd²/(n(n²−1))', () => {
    expect(spearman([1, 2, 3, 4], [10, 30, 20, 40])!.value).toBeCloseTo(1 - (6 * 2) / (4 * 15), 12);
  });
  it('is monotone-invariant for Spearman and exact ±1 for lines', () => {
    expect(spearman([1, 2, 3], [1, 8, 27])!.value).toBeCloseTo(1, 12);
    expect(pearson([1, 2, 3], [7, 5, 3])!.value).toBeCloseTo(-1, 12);
  });
  it('is undefined for constant data and mismatched lengths are an error', () => {
    expect(pearson([1, 2, 3], [4, 4, 4])).toBeNull();
    expect(() => pearson([1, 2], [1])).toThrow(/equal length/);
  });
});
