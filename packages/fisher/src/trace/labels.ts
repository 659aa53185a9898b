import seedrandom from 'seedrandom';

/** A seeded source of uniform numbers in [0, 1); the same seed gives the same draws on every backend. */
export type Uniform = () => number;

export function seededUniform(seed: number): Uniform {
  return seedrandom(`fisherlab-trace:${seed}`);
}

/**
 * One label per row of `probabilities` ([batch × classes], row-major), drawn from that row by
 * inverse-CDF sampling: ŷ ∼ p(·|x), as the true Fisher requires.
 */
export function sampleLabels(
  probabilities: ArrayLike<number>,
  classes: number,
  uniform: Uniform,
): Int32Array {
  const batch = probabilities.length / classes;
  const labels = new Int32Array(batch);
  for (let i = 0; i < batch; i++) {
    const u = uniform();
    let cumulative = 0;
    let label = -1;
    let lastPositive = 0;
    for (let c = 0; c < classes; c++) {
      const p = probabilities[i * classes + c]!;
      if (p > 0) lastPositive = c;
      cumulative += p;
      if (u < cumulative) {
        label = c;
        break;
      }
    }
    // Float rounding can leave the row summing to slightly under u: take the last class with mass.
    labels[i] = label >= 0 ? label : lastPositive;
  }
  return labels;
}
