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
