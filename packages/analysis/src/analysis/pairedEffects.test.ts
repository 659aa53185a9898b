import { describe, expect, it } from 'vitest';
import { pairedEffect, ratioOfPairedMeans, tQuantile975 } from './pairedEffects.js';

const seeds = (values: number[]) => new Map(values.map((v, i) => [i, v]));

/** mulberry32: a small seeded generator, so the simulation below is the same on every run. */
function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const gaussian = (next: () => number) => () =>
  Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());

describe('paired effects across seeds', () => {
  it('pairs by seed, and matches a hand computation', () => {
    // d = [2, 4, 3]: mean 3, sd 1, se 1/√3, t(0.975, 2) = 4.303.
    const a = new Map([
      [0, 12],
      [1, 14],
      [2, 13],
      [7, 99],
    ]);
    const b = new Map([
      [2, 10],
      [1, 10],
      [0, 10],
    ]);
    const e = pairedEffect(a, b, 'positive');
    expect(e.perSeed).toEqual([
      { seed: 0, difference: 2 },
      { seed: 1, difference: 4 },
      { seed: 2, difference: 3 },
    ]);
    expect(e.mean).toBe(3);
    expect(e.sd).toBeCloseTo(1, 12);
    expect(e.stdErr).toBeCloseTo(1 / Math.sqrt(3), 12);
    expect(e.ci95![0]).toBeCloseTo(3 - 4.303 / Math.sqrt(3), 9);
    expect(e.ci95![1]).toBeCloseTo(3 + 4.303 / Math.sqrt(3), 9);
    expect(e.agreeing).toBe(3);
    expect(pairedEffect(a, b, 'negative').agreeing).toBe(0);
  });

  it('has no spread with one seed, and refuses arms without a shared seed', () => {
    const one = pairedEffect(seeds([1]), seeds([0.5]), 'positive');
    expect(one).toMatchObject({ mean: 0.5, sd: null, stdErr: null, ci95: null, n: 1, agreeing: 1 });
    expect(() => pairedEffect(new Map([[1, 1]]), new Map([[2, 1]]), 'positive')).toThrow(/share no seed/);
  });

  it('uses tabled t quantiles and approaches the normal quantile', () => {
    expect(tQuantile975(1)).toBe(12.706);
    expect(tQuantile975(4)).toBe(2.776);
    expect(tQuantile975(30)).toBe(2.042);
    // Tables: t(0.975, 60) = 2.000, t(0.975, 120) = 1.980.
    expect(tQuantile975(60)).toBeCloseTo(2.0, 2);
    expect(tQuantile975(120)).toBeCloseTo(1.98, 2);
    expect(() => tQuantile975(0)).toThrow(/df/);
  });

  it('covers the true mean about 95% of the time (simulated)', () => {
    const normal = gaussian(generator(11));
    let covered = 0;
    const trials = 4000;
    for (let t = 0; t < trials; t++) {
      const a = seeds(Array.from({ length: 5 }, () => 1 + normal()));
      const e = pairedEffect(a, seeds([0, 0, 0, 0, 0]), 'positive');
      if (e.ci95![0] <= 1 && 1 <= e.ci95![1]) covered++;
    }
    expect(covered / trials).toBeGreaterThan(0.93);
    expect(covered / trials).toBeLessThan(0.97);
  });
});

describe('share of a gap (ratio of paired means)', () => {
  it('is the ratio of the mean differences', () => {
    const small = seeds([80, 81, 79]);
    const tuned = seeds([84, 85, 83]);
    const fp = seeds([82, 83, 81]);
    const r = ratioOfPairedMeans(pairedEffect(fp, small, 'positive'), pairedEffect(tuned, small, 'positive'));
    expect(r.value).toBeCloseTo(0.5, 12);
    // Differences are constant across seeds: no spread at all.
    expect(r.stdErr).toBeCloseTo(0, 12);
    expect(r.n).toBe(3);
  });

  it("delta-method standard error agrees with the ratio's spread over simulated experiments", () => {
    // num ~ N(1, 0.5²), den ~ N(2, 0.5²), correlation 0.5, n = 20 seeds; R's true centre is 0.5.
    const normal = gaussian(generator(5));
    const ratios: number[] = [];
    const ses: number[] = [];
    for (let t = 0; t < 3000; t++) {
      const num: number[] = [];
      const den: number[] = [];
      for (let s = 0; s < 20; s++) {
        const z1 = normal();
        const z2 = 0.5 * z1 + Math.sqrt(0.75) * normal();
        num.push(1 + 0.5 * z1);
        den.push(2 + 0.5 * z2);
      }
      const zero = seeds(num.map(() => 0));
      const r = ratioOfPairedMeans(
        pairedEffect(seeds(num), zero, 'positive'),
        pairedEffect(seeds(den), zero, 'positive'),
      );
      ratios.push(r.value);
      ses.push(r.stdErr!);
    }
    const mean = ratios.reduce((a, b) => a + b, 0) / ratios.length;
    const sd = Math.sqrt(ratios.reduce((a, b) => a + (b - mean) ** 2, 0) / (ratios.length - 1));
    const meanSe = ses.reduce((a, b) => a + b, 0) / ses.length;
    // Closed form for these parameters: Var(R) ≈ (0.25 − 2·0.5·0.125 + 0.25·0.25)/(4·20).
    const closed = Math.sqrt((0.25 - 2 * 0.5 * 0.125 + 0.25 * 0.25) / (4 * 20));
    expect(Math.abs(meanSe / sd - 1)).toBeLessThan(0.1);
    expect(Math.abs(meanSe / closed - 1)).toBeLessThan(0.1);
  });
});
