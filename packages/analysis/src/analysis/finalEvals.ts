import type { ColumnTable } from 'arquero';

interface EvalRow {
  runId: string;
  step: number;
  epoch: number;
  trainAccuracy: number | null;
  trainCleanAccuracy: number | null;
  trainNoisyAccuracy: number | null;
  valAccuracy: number | null;
  testAccuracy: number | null;
}

export interface FinalEval {
  runId: string;
  /** Epoch of the last evaluation that measured test accuracy. */
  finalEpoch: number | null;
  finalTestAccuracy: number | null;
  bestTestAccuracy: number | null;
  bestTestEpoch: number | null;
  /** Training accuracy (eval pass) at the last evaluation that measured it. */
  finalTrainAccuracy: number | null;
  /**
   * Generalization gap at the last evaluation measuring both: trainAccuracy − testAccuracy
   * (accuracy points as fractions; positive = overfitting).
   */
  gap: number | null;
  gapEpoch: number | null;
  /** Training accuracy on examples with unchanged labels, at the last evaluation measuring it. */
  finalTrainCleanAccuracy: number | null;
  /** Training accuracy on examples with changed (noisy) labels, against those noisy labels. */
  finalTrainNoisyAccuracy: number | null;
  /**
   * Means over the run's last `tailEvaluations` evaluations that measured each quantity: at a
   * constant or slowly decaying rate one evaluation jitters by about a point, the mean of a few less.
   */
  tailTestAccuracy: number | null;
  tailTrainAccuracy: number | null;
  tailTrainCleanAccuracy: number | null;
  tailTrainNoisyAccuracy: number | null;
  /** How many evaluations the tail means above average (fewer when the run logged fewer). */
  tailEvaluations: number;
}

/** Evaluations averaged in FinalEval's tail means unless a caller says otherwise. */
export const DEFAULT_TAIL_EVALUATIONS = 3;

/**
 * Per run, the accuracies at its final evaluation (last by step), their means over the last
 * `tailEvaluations` evaluations, and its best test accuracy.
 */
export function finalEvals(
  evals: ColumnTable,
  tailEvaluations = DEFAULT_TAIL_EVALUATIONS,
): Map<string, FinalEval> {
  if (!(Number.isInteger(tailEvaluations) && tailEvaluations >= 1)) {
    throw new Error(
      `tailEvaluations: expected a whole number of evaluations ≥ 1, found ${tailEvaluations}. Fix: pass e.g. 3.`,
    );
  }
  const byRun = new Map<string, EvalRow[]>();
  for (const row of evals.objects() as EvalRow[]) {
    const list = byRun.get(row.runId) ?? [];
    list.push(row);
    byRun.set(row.runId, list);
  }
  const out = new Map<string, FinalEval>();
  for (const [runId, rows] of byRun) {
    rows.sort((a, b) => a.step - b.step);
    const last = (pick: (r: EvalRow) => boolean): EvalRow | undefined => rows.filter(pick).at(-1);
    const tail = (pick: (r: EvalRow) => number | null): number | null => {
      const values = rows
        .map(pick)
        .filter((v): v is number => v !== null)
        .slice(-tailEvaluations);
      return values.length > 0 ? values.reduce((a, b) => a + b, 0) / values.length : null;
    };
    const lastTest = last((r) => r.testAccuracy !== null);
    const lastTrain = last((r) => r.trainAccuracy !== null);
    const lastBoth = last((r) => r.trainAccuracy !== null && r.testAccuracy !== null);
    let best: EvalRow | undefined;
    for (const r of rows)
      if (r.testAccuracy !== null && (!best || r.testAccuracy > best.testAccuracy!)) best = r;
    out.set(runId, {
      runId,
      finalEpoch: lastTest?.epoch ?? null,
      finalTestAccuracy: lastTest?.testAccuracy ?? null,
      bestTestAccuracy: best?.testAccuracy ?? null,
      bestTestEpoch: best?.epoch ?? null,
      finalTrainAccuracy: lastTrain?.trainAccuracy ?? null,
      gap: lastBoth ? lastBoth.trainAccuracy! - lastBoth.testAccuracy! : null,
      gapEpoch: lastBoth?.epoch ?? null,
      finalTrainCleanAccuracy: last((r) => r.trainCleanAccuracy !== null)?.trainCleanAccuracy ?? null,
      finalTrainNoisyAccuracy: last((r) => r.trainNoisyAccuracy !== null)?.trainNoisyAccuracy ?? null,
      tailTestAccuracy: tail((r) => r.testAccuracy),
      tailTrainAccuracy: tail((r) => r.trainAccuracy),
      tailTrainCleanAccuracy: tail((r) => r.trainCleanAccuracy),
      tailTrainNoisyAccuracy: tail((r) => r.trainNoisyAccuracy),
      tailEvaluations: Math.min(tailEvaluations, rows.filter((r) => r.testAccuracy !== null).length),
    });
  }
  return out;
}
