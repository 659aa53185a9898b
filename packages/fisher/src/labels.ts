import { seededUniform } from '@fisherlab/core';

/** A source of uniform numbers in [0, 1); seeded ones give the same draws on every backend. */
export type Uniform = () => number;

/**
 * The fisher package's streams of the shared generator family (@fisherlab/core): a draw's stream is
 * deriveSeed(seed, STREAM, ...), so the penalty, Tr(F) and the curvature probes never share draws.
 */
export const LABEL_STREAM = { penalty: 0x5045, trace: 0x5452 } as const;

/**
 * ŷᵢ ∼ p(·|xᵢ; θ), one label per row of `probabilities` ([batch × classes], row-major, each row the
 * model's softmax), by inverse-CDF sampling: ŷ = the first c with u < Σ_{k≤c} p(k|x), u ∼ U[0, 1).
 * The Fisher's labels must be drawn from the model, not taken from the data (that is the empirical
 * Fisher); this is the one sampler the penalty and the Tr(F) estimators use.
 */
export function sampleLabels(
  probabilities: ArrayLike<number>,
  classes: number,
  uniform: Uniform,
): Int32Array {
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

/**
 * The Fisher penalty's ŷ for step `step`: sampleLabels on the stream (seed, LABEL_STREAM.penalty,
 * step), so a step's labels are the same on every run and every backend whatever happened before
 * it (a resumed run draws what the uninterrupted run drew), and differ from step to step.
 */
export function samplePenaltyLabels(
  probabilities: ArrayLike<number>,
  classes: number,
  seed: number,
  step: number,
): Int32Array {
  return sampleLabels(probabilities, classes, seededUniform(seed, LABEL_STREAM.penalty, step));
}

/** The uniform stream of the Tr(F) estimators' ŷ draws for `seed`. */
export const traceUniform = (seed: number): Uniform => seededUniform(seed, LABEL_STREAM.trace);
