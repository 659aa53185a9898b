import path from 'node:path';
import {
  buildReport,
  composeReport,
  describeEarlyWindow,
  type EarlyWindow,
  meanSpread,
  pairedEffectsChart,
  type RunSummary,
  readRuns,
} from '@fisherlab/analysis';
import { createPoolDisplay, type PoolSummary, runLocalPool, writePlan } from '@fisherlab/sweeps';
import { UserError } from '../errors.js';
import { formatDuration } from '../run/progress.js';
import { type DemoEvidence, demoFindings, type Finding, groupByArm, type RunsByArm } from './findings.js';
import {
  armLabel,
  armSchedule,
  DEMO_ARMS,
  DEMO_SCALES,
  type DemoArm,
  type DemoScale,
  type DemoTuning,
  demoPlan,
  demoRunId,
  demoSeeds,
  readDemoTuning,
} from './plan.js';

export interface DemoOptions {
  out: string;
  quick: boolean;
  /** Seeds 0 .. seeds − 1 (default: the scale's). */
  seeds?: number;
  workers: number;
}

export interface DemoResult {
  reportPath: string;
  findings: Finding[];
  summary: RunSummary[];
  seconds: number;
  table: string;
}

/** "85.3 ± 0.4%" over seeds (sd), or "-". */
function spreadText(values: number[], format: (v: number) => string): string {
  if (values.length === 0) return '-';
  const s = meanSpread(values);
  return s.sd === null ? format(s.mean) : `${format(s.mean)} ± ${format(s.sd)}`;
}

/** The per-arm table printed at the end: means ± sd across seeds of the numbers the findings use. */
export function formatDemoTable(
  runs: RunsByArm,
  labels: Record<DemoArm, string>,
  tuning: DemoTuning,
  scale: DemoScale,
): string {
  const header = [
    'arm',
    'epochs',
    'seeds',
    'test acc',
    'train acc',
    'clean / noisy train acc',
    'max Tr(F)',
    'early max Tr(F)',
  ];
  const pct = (x: number) => `${(100 * x).toFixed(1)}`;
  const sig = (x: number) => x.toPrecision(3);
  const body = DEMO_ARMS.map((arm) => {
    const rows = [...(runs.get(arm)?.values() ?? [])];
    const vals = (pick: (r: RunSummary) => number | null) =>
      rows.map(pick).filter((v): v is number => v !== null && Number.isFinite(v));
    const noisy = vals((r) => r.tailTrainNoisyAccuracy);
    return [
      labels[arm],
      String(armSchedule(arm, tuning, scale).epochs),
      String(rows.length),
      `${spreadText(
        vals((r) => r.tailTestAccuracy),
        pct,
      )}%`,
      `${spreadText(
        vals((r) => r.tailTrainAccuracy),
        pct,
      )}%`,
      noisy.length === 0
        ? ''
        : `${spreadText(
            vals((r) => r.tailTrainCleanAccuracy),
            pct,
          )} / ${spreadText(noisy, pct)}%`,
      spreadText(
        vals((r) => r.maxTraceF),
        sig,
      ),
      spreadText(
        vals((r) => r.earlyMaxTraceF),
        sig,
      ),
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

/** The protocol in one paragraph, for the report and the README. */
export function describeProtocol(
  tuning: DemoTuning,
  scale: DemoScale,
  seeds: number,
  window: EarlyWindow,
): string {
  const epochs = (arm: DemoArm) => armSchedule(arm, tuning, scale).epochs;
  return (
    `Fashion-MNIST (the ${scale.trainSubset.toLocaleString('en-US')}-image training and ${scale.testSubset.toLocaleString('en-US')}-image test subsets embedded in FisherLab), ` +
    `simplecnn (16/32 filters, 64 hidden units), SGD with momentum 0.9, batch 64, cosine decay; ${seeds} seeds per arm, each seed shared by all arms (paired). ` +
    `Budgets: ${epochs('tuned')} epochs at the tuned lr ${tuning.tunedLr}, ${epochs('small')} at the small lr ${tuning.smallLr} (tuned / ${tuning.smallLrDivisor}), ` +
    `${epochs('noisy')} for the 20%-noisy-label pair; FP α = ${tuning.fisherAlpha}. ` +
    `Accuracy = mean of a run's last ${scale.tailEvaluations} evaluations; Tr(F) by the mc estimator on ${scale.trackingSubset} fixed training examples; ` +
    `early phase = ${describeEarlyWindow(window)}. Effects are paired per-seed differences: mean ± standard error, 95% t-interval, seeds agreeing.`
  );
}

/**
 * Runs the demo's arms for every seed (two at a time: the native tier and wasm compute on one
 * thread each here, so two processes use both cores), then writes DIR/report.html with the
 * findings checked on these runs. Re-running on the same directory skips finished runs and
 * resumes interrupted ones.
 */
export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const started = performance.now();
  const scale = DEMO_SCALES[options.quick ? 'quick' : 'full'];
  const tuning = readDemoTuning();
  const seeds = demoSeeds(options.seeds ?? scale.seeds);
  const plan = demoPlan(tuning, scale, seeds);
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
  const labels = Object.fromEntries(DEMO_ARMS.map((a) => [a, armLabel(a, tuning)])) as Record<
    DemoArm,
    string
  >;
  const earlyWindow: EarlyWindow = { epochs: scale.earlyEpochs, referenceLr: tuning.tunedLr };
  // Families for Figure 2 are runs that differ in lr and penalty only; the demo's arms also differ
  // in budget, evaluation and tracking schedule, which follow from the lr.
  const groupIgnoreKeys = ['seed', 'name', 'tags', 'output', 'epochs', 'evaluation', 'tracking', 'logEvery'];
  const composeOptions = { earlyWindow, tailEvaluations: scale.tailEvaluations, groupIgnoreKeys };
  const { summary } = composeReport(await readRuns(runsDir, { groupBy: 'name' }), composeOptions);
  const where = new Map(
    seeds.flatMap((seed) => DEMO_ARMS.map((arm) => [demoRunId(arm, seed), { arm, seed }] as const)),
  );
  const byArm = groupByArm(summary, (id) => where.get(id));
  const evidence: DemoEvidence = demoFindings(byArm, labels);
  const seconds = (performance.now() - started) / 1000;
  const table = formatDemoTable(byArm, labels, tuning, scale);
  const effectsChart = pairedEffectsChart(evidence.effects, 'The findings as paired effects across seeds');
  await buildReport({
    runs: runsDir,
    out: path.join(dir, 'report.html'),
    svgDir: path.join(dir, 'figures'),
    title: `FisherLab demo${options.quick ? ' (quick)' : ''}: the paper's findings on Fashion-MNIST`,
    groupBy: 'name',
    ...composeOptions,
    findings: evidence.findings.map((f) => ({ ...f, title: f.title })),
    extraCharts: effectsChart.chart ? [effectsChart.chart] : [],
    notes: [
      describeProtocol(tuning, scale, seeds.length, earlyWindow),
      `Tuning (fisherlab demo --tune, ${tuning.measured.date}): ${tuning.measured.settings}.`,
      `${plan.runs.length} runs; wall time ${formatDuration(seconds)}.`,
      ...effectsChart.notes,
      ...failed.map((f) => `Run ${f.name} failed: ${f.error ?? 'see its log'}.`),
    ],
  });
  return { reportPath: path.join(dir, 'report.html'), findings: evidence.findings, summary, seconds, table };
}
