import { describe, expect, it } from 'vitest';
import { median, pairedRatio, roundOrder } from './stats.js';

describe('median', () => {
  it('is the middle value of an odd sample and the mean of the two middle values of an even one', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
  });
  it('refuses an empty sample', () => {
    expect(() => median([])).toThrow(/at least one value/);
  });
});

describe('roundOrder', () => {
  it('alternates which side runs first', () => {
    expect([0, 1, 2, 3].map((r) => roundOrder(r, 'A', 'B')[0])).toEqual(['A', 'B', 'A', 'B']);
    expect(roundOrder(1, 'A', 'B')).toEqual(['B', 'A']);
  });
});

describe('pairedRatio', () => {
  it('is the ratio of the medians, with the smallest and largest per-round ratio', () => {
    // medians 20 and 10; per-round ratios 10/8, 20/10, 40/20 = 1.25, 2, 2
    expect(pairedRatio([10, 20, 40], [8, 10, 20])).toEqual({ ratio: 2, roundMin: 1.25, roundMax: 2 });
  });
  it('refuses samples of different lengths', () => {
    expect(() => pairedRatio([1, 2], [1])).toThrow(/equal, non-zero length/);
  });
});
