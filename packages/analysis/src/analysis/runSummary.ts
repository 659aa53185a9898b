import type { ColumnTable } from 'arquero';
import * as aq from 'arquero';
import type { RunState, RunTables } from '../read/readRuns.js';
import { finalCurvature } from './curvature.js';
import { type FinalEval, finalEvals } from './finalEvals.js';
import { maxTraceF } from './fisherTrace.js';
import { type MeanSpread, meanSpread } from './stats.js';

/**
 * Default early phase: Tr(F) maximum over the first 2 epochs, the same default as training's
 * `tracking.earlyEpochs` (where Tr(F) is sampled densely). The paper's exact window is unverified;
 * the report uses the runs' own `tracking.earlyEpochs` when they agree, and `earlyEpochs` overrides.
 */
export const DEFAULT_EARLY_EPOCHS = 2;

export interface RunSummary extends Omit<FinalEval, 'runId'> {
  runId: string;
  name: string;
  group: string;
  seed: number | null;
  status: RunState;
  statusDetail: string | null;
  maxTraceF: number | null;
  maxTraceFStdErr: number | null;
  maxTraceFEpoch: number | null;
  /** max Tr(F) over epochs ≤ earlyEpochs. */
  earlyMaxTraceF: number | null;
  earlyMaxTraceFStdErr: number | null;
  earlyMaxTraceFEpoch: number | null;
  estimator: string | null;
  /** Flatness at the last curvature probe (null when the run logged none). */
  finalTraceH: number | null;
  finalTraceHStdErr: number | null;
  finalTopEigenvalue: number | null;
}

/** Runs whose last numbers are final: completed, or of unknown status (no meta.json). */
export function isFinished(status: RunState): boolean {
  return status === 'completed' || status === 'unknown';
}

/** One summary row per run (every status, so failed and running runs stay visible). */
export function summarizeRuns(tables: RunTables, earlyEpochs = DEFAULT_EARLY_EPOCHS): RunSummary[] {
  const finals = finalEvals(tables.evals);
  const maxAll = maxTraceF(tables.fisher);
  const maxEarly = maxTraceF(tables.fisher, earlyEpochs);
  const curvature = finalCurvature(tables.curvature);
  const runs = tables.runs.objects() as {
    runId: string;
    name: string;
    group: string;
    seed: number | null;
    status: RunState;
    statusDetail: string | null;
  }[];
  return runs.map((run) => {
    const f = finals.get(run.runId);
    const all = maxAll.get(run.runId);
    const early = maxEarly.get(run.runId);
    const flat = curvature.get(run.runId);
    return {
      runId: run.runId,
      name: run.name,
      group: run.group,
      seed: run.seed,
      status: run.status,
      statusDetail: run.statusDetail,
      finalEpoch: f?.finalEpoch ?? null,
      finalTestAccuracy: f?.finalTestAccuracy ?? null,
      bestTestAccuracy: f?.bestTestAccuracy ?? null,
      bestTestEpoch: f?.bestTestEpoch ?? null,
      finalTrainAccuracy: f?.finalTrainAccuracy ?? null,
      gap: f?.gap ?? null,
      gapEpoch: f?.gapEpoch ?? null,
      finalTrainCleanAccuracy: f?.finalTrainCleanAccuracy ?? null,
      finalTrainNoisyAccuracy: f?.finalTrainNoisyAccuracy ?? null,
      maxTraceF: all?.value ?? null,
      maxTraceFStdErr: all?.stdErr ?? null,
      maxTraceFEpoch: all?.epoch ?? null,
      earlyMaxTraceF: early?.value ?? null,
      earlyMaxTraceFStdErr: early?.stdErr ?? null,
      earlyMaxTraceFEpoch: early?.epoch ?? null,
      estimator: all?.estimator ?? null,
      finalTraceH: flat?.traceH ?? null,
      finalTraceHStdErr: flat?.traceHStdErr ?? null,
      finalTopEigenvalue: flat?.topEigenvalue ?? null,
    };
  });
}

/** The run summaries as an arquero table (one row per run). */
export function summaryTable(rows: readonly RunSummary[]): ColumnTable {
  const names = rows.length > 0 ? Object.keys(rows[0]!) : ['runId'];
  return aq.from(rows, names);
}

export interface GroupSummary {
  group: string;
  runs: number;
  /** Runs counted in the statistics below: finished ones (completed, or status unknown). */
  finished: number;
  finalTestAccuracy: MeanSpread | null;
  bestTestAccuracy: MeanSpread | null;
  maxTraceF: MeanSpread | null;
  earlyMaxTraceF: MeanSpread | null;
  gap: MeanSpread | null;
}

/** Per group: mean and spread across seeds (finished runs only) of the per-run numbers. */
export function summarizeGroups(rows: readonly RunSummary[]): GroupSummary[] {
  const groups = new Map<string, RunSummary[]>();
  for (const r of rows) groups.set(r.group, [...(groups.get(r.group) ?? []), r]);
  return [...groups].map(([group, runs]) => {
    const done = runs.filter((r) => isFinished(r.status));
    const stat = (pick: (r: RunSummary) => number | null): MeanSpread | null => {
      const values = done.map(pick).filter((v): v is number => v !== null);
      return values.length > 0 ? meanSpread(values) : null;
    };
    return {
      group,
      runs: runs.length,
      finished: done.length,
      finalTestAccuracy: stat((r) => r.finalTestAccuracy),
      bestTestAccuracy: stat((r) => r.bestTestAccuracy),
      maxTraceF: stat((r) => r.maxTraceF),
      earlyMaxTraceF: stat((r) => r.earlyMaxTraceF),
      gap: stat((r) => r.gap),
    };
  });
}
