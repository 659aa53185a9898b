/** Small statistics used by the analyses. Non-finite inputs are the caller's to filter out. */

export interface MeanSpread {
  mean: number;
  /** Sample standard deviation (n − 1); null for fewer than two values. */
  sd: number | null;
  /** Standard error of the mean, sd / √n; null for fewer than two values. */
  stdErr: number | null;
  n: number;
}

export function meanSpread(values: readonly number[]): MeanSpread {
  const n = values.length;
  if (n === 0) throw new Error('meanSpread: expected at least one value, found none');
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { mean, sd: null, stdErr: null, n };
  const sd = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1));
  return { mean, sd, stdErr: sd / Math.sqrt(n), n };
}

export interface Correlation {
  /** Pearson's r or Spearman's ρ. */
  value: number;
  /** Large-sample standard error √((1 − r²)/(n − 2)); null when n < 3. */
  stdErr: number | null;
  n: number;
}

/**
 * Pearson's r = Σ(x−x̄)(y−ȳ) / √(Σ(x−x̄)² Σ(y−ȳ)²), with standard error √((1 − r²)/(n − 2)).
 * Returns null when fewer than two pairs or when either variable is constant (r undefined).
 */
export function pearson(xs: readonly number[], ys: readonly number[]): Correlation | null {
  if (xs.length !== ys.length) {
    throw new Error(`pearson: expected two arrays of equal length, found ${xs.length} and ${ys.length}`);
  }
  const n = xs.length;
  if (n < 2) return null;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = xs[i]! - mx;
    const dy = ys[i]! - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return null;
  const r = Math.max(-1, Math.min(1, sxy / Math.sqrt(sxx * syy)));
  return { value: r, stdErr: n >= 3 ? Math.sqrt((1 - r * r) / (n - 2)) : null, n };
}

/** Ranks 1..n; tied values share the mean of the ranks they span. */
export function ranks(values: readonly number[]): number[] {
  const order = values.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const out = new Array<number>(values.length);
  let i = 0;
  while (i < order.length) {
    let j = i;
    while (j + 1 < order.length && order[j + 1]![0] === order[i]![0]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) out[order[k]![1]] = rank;
    i = j + 1;
  }
  return out;
}

/**
 * Spearman's ρ: Pearson's r of the ranks (ties get mean ranks), so it also holds with ties.
 * Standard error uses the same large-sample formula √((1 − ρ²)/(n − 2)).
 */
export function spearman(xs: readonly number[], ys: readonly number[]): Correlation | null {
  if (xs.length !== ys.length) {
    throw new Error(`spearman: expected two arrays of equal length, found ${xs.length} and ${ys.length}`);
  }
  return pearson(ranks(xs), ranks(ys));
}
