import type { ColumnTable } from 'arquero';
import * as aq from 'arquero';

/**
 * Estimators of Tr(F) in order of preference when a run logged several. 'empirical' (true labels)
 * is a different quantity and is never used as Tr(F).
 */
export const TRACE_F_ESTIMATORS: readonly string[] = ['exact', 'mc', 'minibatch'];

/**
 * The Tr(F) measurements to plot and analyse: per run, the rows of its most preferred estimator
 * (exact > mc > minibatch), with non-finite values dropped. Same columns as the fisher table.
 */
export function traceFRows(fisher: ColumnTable): ColumnTable {
  const rows = fisher.objects() as { runId: string; estimator: string; traceF: number | null }[];
  const chosen = new Map<string, string>();
  for (const row of rows) {
    const rank = TRACE_F_ESTIMATORS.indexOf(row.estimator);
    if (rank < 0 || row.traceF === null) continue;
    const current = chosen.get(row.runId);
    if (current === undefined || rank < TRACE_F_ESTIMATORS.indexOf(current))
      chosen.set(row.runId, row.estimator);
  }
  const keep = (d: { runId: string; estimator: string; traceF: number | null }): boolean =>
    d.traceF !== null && chosen.get(d.runId) === d.estimator;
  return fisher.filter(aq.escape(keep)).reify();
}

export interface TraceFMax {
  runId: string;
  /** The largest Tr(F) estimate (over the window). */
  value: number;
  /** Standard error of that estimate, as logged with it. */
  stdErr: number | null;
  epoch: number;
  estimator: string;
}

/**
 * Per run, the largest Tr(F) estimate with epoch ≤ `untilEpoch` (all epochs when omitted):
 * max_{t: epoch_t ≤ E} Tr(F)_t. With `untilEpoch` = E this is the paper's early-phase Tr(F).
 * The standard error is that of the maximizing estimate (the max of noisy estimates is biased
 * upward by roughly that much).
 */
export function maxTraceF(fisher: ColumnTable, untilEpoch?: number): Map<string, TraceFMax> {
  const rows = traceFRows(fisher).objects() as {
    runId: string;
    epoch: number;
    estimator: string;
    traceF: number;
    traceFStdErr: number | null;
  }[];
  const out = new Map<string, TraceFMax>();
  for (const row of rows) {
    if (untilEpoch !== undefined && row.epoch > untilEpoch + 1e-9) continue;
    const best = out.get(row.runId);
    if (best === undefined || row.traceF > best.value) {
      out.set(row.runId, {
        runId: row.runId,
        value: row.traceF,
        stdErr: row.traceFStdErr,
        epoch: row.epoch,
        estimator: row.estimator,
      });
    }
  }
  return out;
}
