import { isFinished, type RunSummary } from './runSummary.js';
import { type Correlation, pearson, spearman } from './stats.js';

export interface EarlyFisherPoint {
  runId: string;
  name: string;
  group: string;
  earlyMaxTraceF: number;
  finalTestAccuracy: number;
}

export interface EarlyFisherVsAccuracy {
  points: EarlyFisherPoint[];
  /** Pearson r between log10(early max Tr(F)) and final test accuracy (Tr(F) spans decades). */
  pearsonLog: Correlation | null;
  /** Spearman ρ between early max Tr(F) and final test accuracy (rank-based, scale-free). */
  spearman: Correlation | null;
  /** Runs left out, each with the reason. */
  excluded: { runId: string; reason: string }[];
}

/**
 * The paper's claim that early-phase Tr(F) predicts final generalization, across runs: each finished
 * run with an early Tr(F) and a final test accuracy is one point.
 */
export function earlyFisherVsAccuracy(rows: readonly RunSummary[]): EarlyFisherVsAccuracy {
  const points: EarlyFisherPoint[] = [];
  const excluded: EarlyFisherVsAccuracy['excluded'] = [];
  for (const r of rows) {
    if (!isFinished(r.status)) excluded.push({ runId: r.runId, reason: `status ${r.status}` });
    else if (r.earlyMaxTraceF === null || r.earlyMaxTraceF <= 0)
      excluded.push({ runId: r.runId, reason: 'no early Tr(F)' });
    else if (r.finalTestAccuracy === null) excluded.push({ runId: r.runId, reason: 'no test accuracy' });
    else {
      points.push({
        runId: r.runId,
        name: r.name,
        group: r.group,
        earlyMaxTraceF: r.earlyMaxTraceF,
        finalTestAccuracy: r.finalTestAccuracy,
      });
    }
  }
  const xs = points.map((p) => p.earlyMaxTraceF);
  const ys = points.map((p) => p.finalTestAccuracy);
  return {
    points,
    pearsonLog: pearson(
      xs.map((x) => Math.log10(x)),
      ys,
    ),
    spearman: spearman(xs, ys),
    excluded,
  };
}
