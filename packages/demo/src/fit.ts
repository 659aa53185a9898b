import type { MetricRecord } from '@fisherlab/analysis';

/**
 * When a run fit its training data: the first evaluation at which the mean training accuracy of
 * the last `window` evaluations (that one included) reaches `threshold`. One evaluation at a
 * constant learning rate jitters by about a point, so a single lucky value does not count.
 * Returns that evaluation's epoch, or null when the run never fit.
 */
export function fitEpochOf(
  records: readonly MetricRecord[],
  threshold: number,
  window: number,
): number | null {
  const evals = records.filter(
    (r): r is Extract<MetricRecord, { kind: 'eval' }> & { trainAccuracy: number } =>
      r.kind === 'eval' && typeof r.trainAccuracy === 'number',
  );
  for (let i = window - 1; i < evals.length; i++) {
    const last = evals.slice(i - window + 1, i + 1);
    const mean = last.reduce((sum, r) => sum + r.trainAccuracy, 0) / window;
    if (mean >= threshold) return evals[i]!.epoch;
  }
  return null;
}

/**
 * The budget that fits every run measured: the latest fit epoch times a margin (seeds differ, and
 * the demo's seeds are not the tuning's), rounded up. Null when some run never fit.
 */
export function fitBudget(fitEpochs: readonly (number | null)[], margin: number): number | null {
  if (fitEpochs.length === 0 || fitEpochs.some((e) => e === null)) return null;
  return Math.ceil(Math.max(...(fitEpochs as number[])) * margin);
}

/**
 * A run's training accuracy on its clean and on its noisy-label examples, averaged over its
 * evaluations after step 0: the area under its memorization curves, normalized by their length.
 * Null where the run measured no such accuracy.
 */
export function memorizationAreas(records: readonly MetricRecord[]): {
  meanTrainCleanAccuracy: number | null;
  meanTrainNoisyAccuracy: number | null;
} {
  const evals = records.filter(
    (r): r is Extract<MetricRecord, { kind: 'eval' }> => r.kind === 'eval' && r.step > 0,
  );
  const meanOf = (values: (number | undefined)[]): number | null => {
    const measured = values.filter((v): v is number => typeof v === 'number');
    return measured.length > 0 ? measured.reduce((a, b) => a + b, 0) / measured.length : null;
  };
  return {
    meanTrainCleanAccuracy: meanOf(evals.map((r) => r.trainCleanAccuracy)),
    meanTrainNoisyAccuracy: meanOf(evals.map((r) => r.trainNoisyAccuracy)),
  };
}
