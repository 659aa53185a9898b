/** Median of a non-empty sample (mean of the two middle values for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median: expected at least one value, found none');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * Which side runs first in round `round` of an A/B comparison: A B, B A, A B, ... so that a slow
 * drift of the machine's load (or a cache warmed by the previous run) favours neither side.
 */
export function roundOrder<T>(round: number, a: T, b: T): [T, T] {
  return round % 2 === 0 ? [a, b] : [b, a];
}

export interface RatioSummary {
  /** median(A) / median(B). */
  ratio: number;
  /** Smallest and largest A/B within one round: how much the machine moved the ratio. */
  roundMin: number;
  roundMax: number;
}

/** Ratio of medians of paired samples (round i of A against round i of B), with the per-round spread. */
export function pairedRatio(a: readonly number[], b: readonly number[]): RatioSummary {
  if (a.length !== b.length || a.length === 0) {
    throw new Error(
      `pairedRatio: expected two samples of one equal, non-zero length, found ${a.length} and ${b.length}`,
    );
  }
  const perRound = a.map((value, i) => value / b[i]!);
  return { ratio: median(a) / median(b), roundMin: Math.min(...perRound), roundMax: Math.max(...perRound) };
}
