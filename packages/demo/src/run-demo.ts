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
import { formatDuration, type RunConfig } from '@fisherlab/training';
import { DemoError } from './errors.js';
import { type DemoEvidence, demoFindings, type Finding, groupByArm, type RunsByArm } from './findings.js';
import { memorizationAreas } from './fit.js';
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
  FIT_THRESHOLD,
  readDemoTuning,
  runCost,
} from './plan.js';
import { createDemoEta } from './progress.js';

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
  /** Every arm's fit, in one sentence. */
  fit: string;
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
  const every =
    tuning.penaltyEvery > 1 ? `, applied every ${tuning.penaltyEvery} steps` : ', applied every step';
  return (
    `Fashion-MNIST (the ${scale.trainSubset.toLocaleString('en-US')}-image training and ${scale.testSubset.toLocaleString('en-US')}-image test subsets embedded in FisherLab), ` +
    `simplecnn (16/32 filters, 64 hidden units), SGD with momentum 0.9 at a constant learning rate, batch 64, no weight decay, no augmentation; ${seeds} seeds per arm, each seed shared by all arms (paired). ` +
    `Budgets, measured by \`fisherlab demo --tune\` to bring every clean arm to ${100 * FIT_THRESHOLD}% training accuracy: ${epochs('tuned')} epochs at the tuned lr ${tuning.tunedLr}, ${epochs('small')} at the small lr ${tuning.smallLr} (tuned / ${tuning.smallLrDivisor}), ` +
    `the same ${epochs('small')} for small lr + FP, ${epochs('noisy')} for the 20%-noisy-label pair; FP α = ${tuning.fisherAlpha}${every}. ` +
    `Accuracy = mean of a run's last ${scale.tailEvaluations} evaluations; Tr(F) by the mc estimator on ${scale.trackingSubset} fixed training examples; ` +
    `early phase = ${describeEarlyWindow(window)}. Effects are paired per-seed differences: mean ± standard error, 95% t-interval, seeds agreeing.`
  );
}

/** Every arm's fit: mean and lowest training accuracy over seeds, against the threshold. */
export function describeFit(runs: RunsByArm, labels: Record<DemoArm, string>): string {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const parts = DEMO_ARMS.map((arm) => {
    const values = [...(runs.get(arm)?.values() ?? [])]
      .map((r) => r.tailTrainAccuracy)
      .filter((v): v is number => v !== null && Number.isFinite(v));
    if (values.length === 0) return `${labels[arm]}: no finished runs`;
    const low = Math.min(...values);
    const fit =
      low >= FIT_THRESHOLD ? 'fit' : arm.endsWith('+FP') ? 'penalized, not required to fit' : 'NOT fit';
    return `${labels[arm]} ${pct(meanSpread(values).mean)} (lowest seed ${pct(low)}; ${fit})`;
  });
  return `Fit, training accuracy (mean of the last evaluations; a clean arm fits at ${pct(FIT_THRESHOLD)}): ${parts.join('; ')}.`;
}

/** The tuning grids and choices in a few lines, for the report's notes. */
export function describeTuning(tuning: DemoTuning): string[] {
  const pct = (x: number | null) => (x === null ? '-' : `${(100 * x).toFixed(1)}%`);
  const row = (name: string, r: DemoTuning['grids']['lr'][number]) =>
    `${name} ${r.value} (lr ${r.lr}, ${r.epochs} epochs): test ${pct(r.tailTestAccuracy)}, train ${pct(r.tailTrainAccuracy)}, ${r.fitted} of ${r.seeds} fit${r.fitEpoch === null ? '' : ` by epoch ${r.fitEpoch}`}, max Tr(F) ${r.maxTraceF?.toPrecision(3) ?? '-'}`;
  const grid = (title: string, name: string, rows: DemoTuning['grids']['lr']) =>
    `${title}: ${rows.map((r) => row(name, r)).join('; ')}.`;
  return [
    `Tuning (fisherlab demo --tune, ${tuning.measured.date}, ${tuning.measured.machine}): ${tuning.measured.settings}. Criteria: ${tuning.measured.criteria.join('; ')}.`,
    grid('Grid lr', 'lr', tuning.grids.lr),
    grid('Grid ratio (small lr = tuned / ratio)', 'ratio', tuning.grids.ratio),
    grid('Grid α (small lr + FP)', 'α', tuning.grids.fisherAlpha),
    grid('Penalty every k steps (chosen α)', 'k', tuning.grids.penaltyEvery),
  ];
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
  const eta = createDemoEta(new Map(plan.runs.map((r) => [r.index, runCost(r.config as RunConfig)])));
  const display = createPoolDisplay({ sweep: plan.sweep, total: plan.runs.length, status: eta.status });
  const abort = new AbortController();
  const stop = () => abort.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  let pool: PoolSummary;
  try {
    pool = await runLocalPool(dir, {
      workers: options.workers,
      onEvent: (event) => {
        eta.onEvent(event);
        display.onEvent(event);
      },
      signal: abort.signal,
    });
  } finally {
    display.done();
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  if (pool.interrupted) {
    throw new DemoError(
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
  const read = await readRuns(runsDir, { groupBy: 'name' });
  const { summary } = composeReport(read, composeOptions);
  const records = new Map(read.runs.map((r) => [r.id, r.records]));
  const where = new Map(
    seeds.flatMap((seed) => DEMO_ARMS.map((arm) => [demoRunId(arm, seed), { arm, seed }] as const)),
  );
  const withAreas = summary.map((s) => ({ ...s, ...memorizationAreas(records.get(s.runId) ?? []) }));
  const byArm = groupByArm(withAreas, (id) => where.get(id));
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
      describeFit(byArm, labels),
      ...describeTuning(tuning),
      `${plan.runs.length} runs; wall time ${formatDuration(seconds)}.`,
      ...effectsChart.notes,
      ...failed.map((f) => `Run ${f.name} failed: ${f.error ?? 'see its log'}.`),
    ],
  });
  return {
    reportPath: path.join(dir, 'report.html'),
    findings: evidence.findings,
    summary,
    seconds,
    table,
    fit: describeFit(byArm, labels),
  };
}
