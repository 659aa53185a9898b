/** Mean and standard error of the mean (sample sd / √n; NaN when n < 2). */
export function meanAndStandardError(values: ArrayLike<number>): { mean: number; standardError: number } {
  return weightedMeanAndStandardError(values);
}

/**
 * Weighted mean Σ wⱼvⱼ / Σ wⱼ and its standard error √(n/(n−1) · Σ w̃ⱼ² (vⱼ − mean)²) with
 * w̃ⱼ = wⱼ / Σ w. With equal weights this is exactly sd/√n.
 */
export function weightedMeanAndStandardError(
  values: ArrayLike<number>,
  weights?: ArrayLike<number>,
): { mean: number; standardError: number } {
  const n = values.length;
  if (n === 0) return { mean: Number.NaN, standardError: Number.NaN };
  let totalWeight = 0;
  let mean = 0;
  for (let j = 0; j < n; j++) {
    const w = weights ? weights[j]! : 1;
    totalWeight += w;
    mean += w * values[j]!;
  }
  mean /= totalWeight;
  if (n < 2) return { mean, standardError: Number.NaN };
  let variance = 0;
  for (let j = 0; j < n; j++) {
    const w = (weights ? weights[j]! : 1) / totalWeight;
    variance += w * w * (values[j]! - mean) ** 2;
  }
  return { mean, standardError: Math.sqrt((variance * n) / (n - 1)) };
}
