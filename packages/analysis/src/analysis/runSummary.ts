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

/**
 * The early phase over which "early Tr(F)" is read. A smaller learning rate moves later in steps,
 * so its Tr(F) rise comes later too, roughly in proportion to 1/lr (PAPER.md, method notes). With
 * `referenceLr` the window is `epochs` for a run at that rate and `epochs · referenceLr / lr` for a
 * run at rate lr (10x longer at a 10x smaller rate); without it, `epochs` for every run.
 */
export interface EarlyWindow {
  epochs: number;
  referenceLr?: number;
}

/** A run's early phase in epochs under `window` (the fixed window when its lr is unknown). */
export function earlyEpochsFor(window: EarlyWindow, lr: number | null): number {
  if (window.referenceLr === undefined || lr === null || !(lr > 0)) return window.epochs;
  return (window.epochs * window.referenceLr) / lr;
}

/** The window in words, for reports: "epochs ≤ 2", or the scaled form with its reference rate. */
export function describeEarlyWindow(window: EarlyWindow): string {
  const n = Number(window.epochs.toPrecision(4));
  if (window.referenceLr === undefined) return `epochs ≤ ${n}`;
  return `epochs ≤ ${n} · ${window.referenceLr} / lr (${n} at lr ${window.referenceLr}, ${Number((n * 10).toPrecision(4))} at a 10x smaller lr)`;
}

export interface SummarizeOptions {
  /** Early phase: a number of epochs for every run, or a window scaled by each run's lr. */
  early?: number | EarlyWindow;
  /** Evaluations averaged in the tail means (default DEFAULT_TAIL_EVALUATIONS). */
  tailEvaluations?: number;
}

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
  /** This run's early phase in epochs (see EarlyWindow). */
  earlyEpochs: number;
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
export function summarizeRuns(
  tables: RunTables,
  options: number | SummarizeOptions = DEFAULT_EARLY_EPOCHS,
): RunSummary[] {
  const { early: earlyOption = DEFAULT_EARLY_EPOCHS, tailEvaluations } =
    typeof options === 'number' ? { early: options } : options;
  const window: EarlyWindow = typeof earlyOption === 'number' ? { epochs: earlyOption } : earlyOption;
  const finals = finalEvals(tables.evals, tailEvaluations);
  const maxAll = maxTraceF(tables.fisher);
  const curvature = finalCurvature(tables.curvature);
  const runs = tables.runs.objects() as {
    runId: string;
    name: string;
    group: string;
    seed: number | null;
    lr: number | null;
    status: RunState;
    statusDetail: string | null;
  }[];
  // One maxTraceF pass per distinct window (one in all unless the window scales with lr).
  const earlyMaxima = new Map<number, ReturnType<typeof maxTraceF>>();
  return runs.map((run) => {
    const f = finals.get(run.runId);
    const all = maxAll.get(run.runId);
    const earlyEpochs = earlyEpochsFor(window, run.lr);
    if (!earlyMaxima.has(earlyEpochs)) earlyMaxima.set(earlyEpochs, maxTraceF(tables.fisher, earlyEpochs));
    const early = earlyMaxima.get(earlyEpochs)!.get(run.runId);
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
      tailTestAccuracy: f?.tailTestAccuracy ?? null,
      tailTrainAccuracy: f?.tailTrainAccuracy ?? null,
      tailTrainCleanAccuracy: f?.tailTrainCleanAccuracy ?? null,
      tailTrainNoisyAccuracy: f?.tailTrainNoisyAccuracy ?? null,
      tailEvaluations: f?.tailEvaluations ?? 0,
      maxTraceF: all?.value ?? null,
      maxTraceFStdErr: all?.stdErr ?? null,
      maxTraceFEpoch: all?.epoch ?? null,
      earlyEpochs,
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
  tailTestAccuracy: MeanSpread | null;
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
      tailTestAccuracy: stat((r) => r.tailTestAccuracy),
      bestTestAccuracy: stat((r) => r.bestTestAccuracy),
      maxTraceF: stat((r) => r.maxTraceF),
      earlyMaxTraceF: stat((r) => r.earlyMaxTraceF),
      gap: stat((r) => r.gap),
    };
  });
}
