import seedrandom from 'seedrandom';

/**
 * Labels for the Fisher penalty, ŷᵢ ∼ p(·|xᵢ; θ), drawn by inverse-CDF sampling from each row of
 * `probabilities` ([batch × classes], row-major). The generator is seeded by (seed, step), so a
 * step's labels are the same on every run and every backend, whatever happened before it (a
 * resumed run draws what the uninterrupted run drew), and differ from step to step.
 */
export function samplePenaltyLabels(
  probabilities: ArrayLike<number>,
  classes: number,
  seed: number,
  step: number,
): Int32Array {
  const uniform = seedrandom(`fisherlab-penalty:${seed}:${step}`);
  const batch = Math.floor(probabilities.length / classes);
  const labels = new Int32Array(batch);
  for (let i = 0; i < batch; i++) {
    const u = uniform();
    let cumulative = 0;
    let label = -1;
    let lastWithMass = 0;
    for (let c = 0; c < classes; c++) {
      const p = probabilities[i * classes + c] ?? 0;
      if (p > 0) lastWithMass = c;
      cumulative += p;
      if (u < cumulative) {
        label = c;
        break;
      }
    }
    // A row that sums to slightly under u in float32: take the last class with mass.
    labels[i] = label >= 0 ? label : lastWithMass;
  }
  return labels;
}
