import { meanSpread } from './stats.js';

/**
 * Effects stated from several seeds, paired by seed: each seed trains every arm, so a seed's
 * difference between two arms cancels what that seed shares (initialization, batch order, the
 * noisy-label draw). The effect is the mean of the per-seed differences d_s = a_s − b_s, with its
 * standard error sd(d)/√n, a 95% Student-t interval, and how many seeds point the expected way.
 */

/** One value per seed (seed → value), e.g. a run's tail test accuracy. */
export type PerSeed = ReadonlyMap<number, number>;

export interface PairedEffect {
  /** Seeds present in both arms, ascending, with their difference a_s − b_s. */
  perSeed: { seed: number; difference: number }[];
  mean: number;
  /** Sample standard deviation of the differences (n − 1); null for one seed. */
  sd: number | null;
  stdErr: number | null;
  n: number;
  /** mean ± t(0.975, n − 1) · stdErr; null for one seed. */
  ci95: [number, number] | null;
  /** Seeds whose difference has the expected sign (strictly). */
  agreeing: number;
  expected: 'positive' | 'negative';
}

/** Two-sided 95% quantiles of Student's t, t(0.975, df), for df = 1..30 (standard tables). */
const T_975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131,
  2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

/** t(0.975, df); beyond the table, the normal quantile with the first-order 1/df correction. */
export function tQuantile975(df: number): number {
  if (!(Number.isInteger(df) && df >= 1)) throw new Error(`tQuantile975: expected df ≥ 1, found ${df}`);
  return df <= T_975.length ? T_975[df - 1]! : 1.959964 + 2.37 / df;
}

/** The paired effect of arm `a` over arm `b`: d_s = a_s − b_s over the seeds both have. */
export function pairedEffect(a: PerSeed, b: PerSeed, expected: 'positive' | 'negative'): PairedEffect {
  const perSeed = [...a.keys()]
    .filter((seed) => b.has(seed))
    .sort((x, y) => x - y)
    .map((seed) => ({ seed, difference: a.get(seed)! - b.get(seed)! }));
  if (perSeed.length === 0) {
    throw new Error(
      `pairedEffect: the two arms share no seed (seeds ${[...a.keys()].join(', ') || 'none'} vs ${[...b.keys()].join(', ') || 'none'})`,
    );
  }
  const stats = meanSpread(perSeed.map((p) => p.difference));
  const half = stats.stdErr === null ? null : tQuantile975(stats.n - 1) * stats.stdErr;
  return {
    perSeed,
    mean: stats.mean,
    sd: stats.sd,
    stdErr: stats.stdErr,
    n: stats.n,
    ci95: half === null ? null : [stats.mean - half, stats.mean + half],
    agreeing: perSeed.filter((p) => (expected === 'positive' ? p.difference > 0 : p.difference < 0)).length,
    expected,
  };
}

export interface RatioEffect {
  /** R = mean(num) / mean(den) over the seeds all three arms share. */
  value: number;
  /** Delta-method standard error of R; null for one seed or a zero denominator. */
  stdErr: number | null;
  n: number;
}

/**
 * A share of a paired gap, e.g. how much of the small learning rate's test-accuracy gap the
 * penalty recovers: R = mean_s(num_s) / mean_s(den_s) with num_s = fp_s − small_s and
 * den_s = tuned_s − small_s. Per-seed ratios blow up when one seed's gap is near zero, so the
 * ratio is of the means, with the delta-method variance
 *   Var(R) ≈ [Var(n̄) − 2R·Cov(n̄, d̄) + R²·Var(d̄)] / d̄²,
 * where Var(n̄) = s²_num/n and Cov(n̄, d̄) = s_num,den/n are the sample (co)variances over n seeds.
 */
export function ratioOfPairedMeans(num: PairedEffect, den: PairedEffect): RatioEffect {
  const denBySeed = new Map(den.perSeed.map((p) => [p.seed, p.difference]));
  const pairs = num.perSeed
    .filter((p) => denBySeed.has(p.seed))
    .map((p) => [p.difference, denBySeed.get(p.seed)!] as const);
  const n = pairs.length;
  if (n === 0) throw new Error('ratioOfPairedMeans: the two effects share no seed');
  const mn = pairs.reduce((s, [x]) => s + x, 0) / n;
  const md = pairs.reduce((s, [, y]) => s + y, 0) / n;
  const value = mn / md;
  if (n < 2 || md === 0) return { value, stdErr: null, n };
  let sxx = 0;
  let syy = 0;
  let sxy = 0;
  for (const [x, y] of pairs) {
    sxx += (x - mn) ** 2;
    syy += (y - md) ** 2;
    sxy += (x - mn) * (y - md);
  }
  const varMn = sxx / (n - 1) / n;
  const varMd = syy / (n - 1) / n;
  const cov = sxy / (n - 1) / n;
  const variance = (varMn - 2 * value * cov + value * value * varMd) / (md * md);
  return { value, stdErr: Math.sqrt(Math.max(variance, 0)), n };
}
