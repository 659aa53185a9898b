import path from 'node:path';
import { buildReport, composeReport, type RunSummary, readRuns } from '@fisherlab/analysis';
import { UserError } from '../errors.js';
import { formatDuration } from '../run/progress.js';
import { createPoolDisplay, type PoolSummary, runLocalPool } from '../sweep/local-pool.js';
import { writePlan } from '../sweep/plan.js';
import { demoFindings, type Finding } from './findings.js';
import { DEMO_ARMS, DEMO_SCALES, type DemoArm, demoPlan, readDemoTuning } from './plan.js';

export interface DemoOptions {
  out: string;
  quick: boolean;
  seed: number;
  workers: number;
}

export interface DemoResult {
  reportPath: string;
  findings: Finding[];
  summary: RunSummary[];
  seconds: number;
  table: string;
}

/** The summary table printed at the end (and shown in the report). */
export function formatDemoTable(rows: RunSummary[]): string {
  const header = [
    'run',
    'status',
    'test acc',
    'train acc',
    'clean/noisy train acc',
    'max Tr(F)',
    'early max Tr(F)',
  ];
  const cell = (x: number | null | undefined, f: (v: number) => string) => (x == null ? '-' : f(x));
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const sig = (x: number) => x.toPrecision(4);
  const body = rows.map((r) => [
    r.name,
    r.status,
    cell(r.finalTestAccuracy, pct),
    cell(r.finalTrainAccuracy, pct),
    r.finalTrainNoisyAccuracy == null
      ? '-'
      : `${cell(r.finalTrainCleanAccuracy, pct)} / ${pct(r.finalTrainNoisyAccuracy)}`,
    cell(r.maxTraceF, sig),
    cell(r.earlyMaxTraceF, sig),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

/**
 * Runs the demo's six runs (two at a time: wasm computes on one thread, so two processes use both
 * cores), then writes DIR/report.html with the findings checked on these runs. Re-running on the
 * same directory skips finished runs and resumes interrupted ones.
 */
export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const started = performance.now();
  const scale = DEMO_SCALES[options.quick ? 'quick' : 'full'];
  const plan = demoPlan(readDemoTuning(), scale, options.seed);
  const dir = path.resolve(options.out);
  writePlan(dir, plan);
  const display = createPoolDisplay({ sweep: plan.sweep, total: plan.runs.length });
  const abort = new AbortController();
  const stop = () => abort.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  let pool: PoolSummary;
  try {
    pool = await runLocalPool(dir, {
      workers: options.workers,
      onEvent: display.onEvent,
      signal: abort.signal,
    });
  } finally {
    display.done();
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  if (pool.interrupted) {
    throw new UserError(
      `demo interrupted; finished runs are kept in ${dir}: run the same command again to continue`,
      130,
    );
  }
  const failed = pool.results.filter((r) => r.status === 'failed');
  const runsDir = path.join(dir, 'runs');
  const { summary } = composeReport(await readRuns(runsDir));
  const byArm: Partial<Record<DemoArm, RunSummary>> = {};
  for (const row of summary) {
    const arm = DEMO_ARMS.find((a) => row.name === a);
    if (arm) byArm[arm] = row;
  }
  const findings = demoFindings(byArm);
  const seconds = (performance.now() - started) / 1000;
  const table = formatDemoTable(
    DEMO_ARMS.map((a) => byArm[a]).filter((r): r is RunSummary => r !== undefined),
  );
  await buildReport({
    runs: runsDir,
    out: path.join(dir, 'report.html'),
    svgDir: path.join(dir, 'figures'),
    title: `FisherLab demo${options.quick ? ' (quick)' : ''}: the paper's findings on Fashion-MNIST`,
    findings,
    notes: [
      `${plan.runs.length} runs, ${scale.trainSubset} training / ${scale.testSubset} test images, ${scale.epochs} epochs, seed ${options.seed}; wall time ${formatDuration(seconds)}.`,
      ...failed.map((f) => `Run ${f.name} failed: ${f.error ?? 'see its log'}.`),
    ],
  });
  return { reportPath: path.join(dir, 'report.html'), findings, summary, seconds, table };
}
