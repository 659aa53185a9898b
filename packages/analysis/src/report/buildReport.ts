import path from 'node:path';
import { ensureDirectory, writeFileAtomic } from '@fisherlab/storage';
import { type EarlyFisherVsAccuracy, earlyFisherVsAccuracy } from '../analysis/earlyFisher.js';
import { DEFAULT_GROUP_IGNORE_KEYS } from '../analysis/groups.js';
import { penaltyFamilies } from '../analysis/penaltyArms.js';
import {
  DEFAULT_EARLY_EPOCHS,
  describeEarlyWindow,
  type EarlyWindow,
  type GroupSummary,
  type RunSummary,
  summarizeGroups,
  summarizeRuns,
} from '../analysis/runSummary.js';
import { spectralDensityRows, topEigenvaluesVsTraceRows } from '../analysis/spectra.js';
import type { Chart } from '../charts/chart.js';
import { earlyFisherScatterChart } from '../charts/earlyFisherScatter.js';
import { fisherExplosionChart } from '../charts/fisherExplosion.js';
import { topEigenvaluesChart } from '../charts/flatMinima.js';
import { memorizationChart } from '../charts/memorization.js';
import { penaltyVsLrChart } from '../charts/penaltyVsLr.js';
import { spectralDensityChart } from '../charts/spectralDensity.js';
import { type RunSet, readRuns } from '../read/readRuns.js';
import { type Finding, renderReportHtml } from './html.js';
import { renderSvg } from './svg.js';

export interface ComposeOptions {
  /** Early phase = epochs ≤ this (default: the runs' tracking.earlyEpochs if they agree, else DEFAULT_EARLY_EPOCHS). */
  earlyEpochs?: number;
  /** Early phase scaled by each run's learning rate (overrides earlyEpochs); see EarlyWindow. */
  earlyWindow?: EarlyWindow;
  /** Evaluations averaged in the summaries' tail means (default 3). */
  tailEvaluations?: number;
  groupIgnoreKeys?: readonly string[];
}

export interface ComposedReport {
  charts: Chart[];
  /** Reading notes, run status notes and what could not be drawn, one sentence each. */
  notes: string[];
  summary: RunSummary[];
  groups: GroupSummary[];
  correlation: EarlyFisherVsAccuracy;
  /** The early window's epochs at its reference rate (all runs when it does not scale with lr). */
  earlyEpochs: number;
  earlyWindow: EarlyWindow;
}

/** The runs' `tracking.earlyEpochs` when every run with a config sets the same value above 0. */
export function earlyEpochsOfRuns(set: RunSet): number | null {
  const values = new Set<unknown>();
  for (const run of set.runs) {
    if (run.config === null) continue;
    const tracking = run.config.tracking;
    values.add(
      typeof tracking === 'object' && tracking !== null
        ? (tracking as Record<string, unknown>).earlyEpochs
        : undefined,
    );
  }
  const [only] = values;
  return values.size === 1 && typeof only === 'number' && only > 0 ? only : null;
}

/** Everything the report shows, computed from runs already read (no file output). */
export function composeReport(set: RunSet, options: ComposeOptions = {}): ComposedReport {
  const fromRuns = earlyEpochsOfRuns(set);
  const earlyEpochs = options.earlyWindow?.epochs ?? options.earlyEpochs ?? fromRuns ?? DEFAULT_EARLY_EPOCHS;
  const earlyWindow: EarlyWindow = options.earlyWindow ?? { epochs: earlyEpochs };
  if (!(earlyEpochs > 0)) {
    throw new Error(
      `earlyEpochs: expected a number of epochs above 0, found ${earlyEpochs}. Fix: pass e.g. 3 (the early phase is epochs ≤ earlyEpochs).`,
    );
  }
  const notes = [...set.notes];
  if (set.runs.length === 0) notes.push('No runs found: no directory with meta.json or metrics.jsonl.');
  for (const run of set.runs) {
    const last = run.records.at(-1)?.epoch;
    const progress =
      last === undefined
        ? 'no epochs logged'
        : `last logged epoch ${Number(last.toFixed(2))}${run.view.epochs !== null ? ` of ${run.view.epochs}` : ''}`;
    if (run.status === 'failed' || run.status === 'diverged') {
      notes.push(
        `Run ${run.name} ${run.status}${run.statusDetail ? `: ${run.statusDetail}` : ''} (${progress}). Its curves are drawn as far as they go; it is left out of final-accuracy statistics.`,
      );
    } else if (run.status === 'running' || run.status === 'interrupted') {
      notes.push(
        `Run ${run.name} is ${run.status} (${progress}): its numbers are not final and it is left out of final-accuracy statistics.`,
      );
    }
  }
  const summary = summarizeRuns(set.tables, {
    early: earlyWindow,
    ...(options.tailEvaluations === undefined ? {} : { tailEvaluations: options.tailEvaluations }),
  });
  const correlation = earlyFisherVsAccuracy(summary);
  const families = penaltyFamilies(set.runs, summary, options.groupIgnoreKeys ?? DEFAULT_GROUP_IGNORE_KEYS);
  const outcomes = [
    fisherExplosionChart(set.tables),
    penaltyVsLrChart(set.tables, families, summary),
    memorizationChart(set.tables),
    earlyFisherScatterChart(correlation, describeEarlyWindow(earlyWindow)),
  ];
  // Curvature records of `fisherlab curvature`: drawn only when some run has them.
  if (set.runs.some((r) => r.records.some((m) => m.kind === 'curvature' && m.matrix !== undefined))) {
    outcomes.push(
      topEigenvaluesChart(topEigenvaluesVsTraceRows(set.tables)),
      spectralDensityChart(spectralDensityRows(set.tables)),
    );
  }
  const charts: Chart[] = [];
  for (const o of outcomes) {
    if (o.chart) charts.push(o.chart);
    notes.push(...o.notes);
  }
  if (set.runs.some((r) => r.records.some((m) => m.kind === 'fisher' && m.estimator === 'empirical'))) {
    notes.push(
      'Empirical-Fisher measurements (true labels) were found; they are not Tr(F) and are not plotted as Tr(F).',
    );
  }
  return {
    charts,
    notes,
    summary,
    groups: summarizeGroups(summary),
    correlation,
    earlyEpochs,
    earlyWindow,
  };
}

export interface BuildReportOptions extends ComposeOptions {
  /** How runs are grouped (see ReadRunsOptions.groupBy). */
  groupBy?: 'config' | 'name';
  /** Charts drawn by the caller, shown before the report's own (e.g. the demo's paired effects). */
  extraCharts?: readonly Chart[];
  /** Run directories, or roots of trees of them. */
  runs: string | readonly string[];
  /** Where to write the HTML report (e.g. 'report.html'). */
  out: string;
  /** Also write each chart as <svgDir>/<chart id>.svg. */
  svgDir?: string;
  title?: string;
  /** Claims checked by the caller, shown at the top. */
  findings?: readonly Finding[];
  /** Free-text notes shown before the report's own notes. */
  notes?: readonly string[];
}

export interface BuiltReport extends ComposedReport {
  htmlPath: string;
  svgPaths: string[];
  /** Run directories left out because their records could not be read, with the reason. */
  skipped: RunSet['skipped'];
}

/** Reads the runs, writes the self-contained HTML report (and SVGs), and returns what it showed. */
export async function buildReport(options: BuildReportOptions): Promise<BuiltReport> {
  const set = await readRuns(options.runs, {
    ...(options.groupIgnoreKeys ? { groupIgnoreKeys: options.groupIgnoreKeys } : {}),
    ...(options.groupBy ? { groupBy: options.groupBy } : {}),
  });
  const composed = composeReport(set, options);
  const charts = [...(options.extraCharts ?? []), ...composed.charts];
  const notes = [...(options.notes ?? []), ...composed.notes];
  const html = renderReportHtml({
    title: options.title ?? 'FisherLab report',
    generatedAt: new Date().toISOString(),
    sources: typeof options.runs === 'string' ? [options.runs] : options.runs,
    findings: options.findings ?? [],
    notes,
    charts,
    summary: composed.summary,
    groups: composed.groups,
    runs: set.runs,
    earlyPhase: describeEarlyWindow(composed.earlyWindow),
  });
  ensureDirectory(path.dirname(path.resolve(options.out)));
  writeFileAtomic(options.out, html);
  const svgPaths: string[] = [];
  if (options.svgDir !== undefined) {
    ensureDirectory(options.svgDir);
    for (const chart of charts) {
      const file = path.join(options.svgDir, `${chart.id}.svg`);
      writeFileAtomic(file, await renderSvg(chart.spec));
      svgPaths.push(file);
    }
  }
  return { ...composed, charts, notes, htmlPath: options.out, svgPaths, skipped: set.skipped };
}
