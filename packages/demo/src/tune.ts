import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { composeReport, meanSpread, type RunInfo, type RunSummary, readRuns } from '@fisherlab/analysis';
import { writeFileAtomic } from '@fisherlab/storage';
import { createPoolDisplay, type PlannedRun, runId, runLocalPool, writePlan } from '@fisherlab/sweeps';
import type { RunConfig } from '@fisherlab/training';
import { DemoError } from './errors.js';
import { fitBudget, fitEpochOf } from './fit.js';
import {
  DEMO_SCALES,
  type DemoScale,
  type DemoTuning,
  FIT_THRESHOLD,
  type GridRow,
  projectDemoSeconds,
  protocolConfig,
  TUNING_FILE,
} from './plan.js';

/**
 * The grids `fisherlab demo --tune` searches, on the demo's own protocol (constant rate, every
 * clean run trained until it fits). Four stages, each choosing one value from runs on seeds apart
 * from the demo's own (0, 1, 2, ...), so nothing is chosen on the runs the findings are read from:
 * 1. lr: the tuned rate, by the test accuracy of fitted runs (a rate whose runs do not all fit
 *    within its budget cannot be chosen); its fit epochs give the tuned arm's budget;
 * 2. ratio: the small rate = tuned / ratio, 10-30x as in the paper. Each ratio trains until fit;
 *    the ratio with the largest test-accuracy gap below the tuned rate is chosen, among those whose
 *    whole demo the budget affords (a ratio whose projected demo does not is recorded, not run);
 * 3. α at the chosen small rate, with the penalty every `penaltyEvery` steps (the cheaper k), by
 *    the test accuracy of small + FP on the small rate's budget;
 * 4. k: the chosen α every step (k = 1, the published method) on the same seeds. The cheaper k is
 *    kept only when it keeps the finding as k = 1 shows it (a lower Tr(F) and a higher test
 *    accuracy than the small rate alone on every seed where k = 1 shows them); otherwise k = 1.
 */
export const TUNING_GRIDS = {
  lr: [0.01, 0.02, 0.05, 0.1],
  /** A grid point at rate lr trains for this / lr epochs (a smaller rate fits later, about as 1/lr), at least minEpochs. */
  lrTimesEpochs: 2.5,
  minEpochs: 40,
  ratio: [10, 20, 30],
  /** A ratio r trains for r × (the tuned rate's fit epoch) × this. */
  ratioEpochsFactor: 1.25,
  fisherAlpha: [0.01, 0.03, 0.1],
  penaltyEvery: 4,
  /** Fit epochs times this is an arm's budget (the demo's seeds differ from the tuning's). */
  fitMargin: 1.25,
  /** The noisy-label pair trains this many times the tuned arm's budget (memorization is slow). */
  noisyBudgetFactor: 2,
  /** The full demo's projected wall time on this machine must stay under this. */
  demoBudgetSeconds: 15 * 60,
  seeds: [100, 101],
} as const;

interface GridPoint {
  id: string;
  value: number;
  seed: number;
  config: RunConfig;
}

interface StageResult {
  rows: GridRow[];
  runs: RunInfo[];
  summaries: Map<string, RunSummary>;
}

const mean = (values: (number | null)[]): number | null => {
  const finite = values.filter((v): v is number => v !== null && Number.isFinite(v));
  return finite.length > 0 ? meanSpread(finite).mean : null;
};

/** Seconds per epoch of a finished run, from the time of its last record. */
function secondsPerEpoch(run: RunInfo): number | null {
  const last = run.records.at(-1);
  return last && last.epoch > 0 ? last.time / last.epoch : null;
}

/** Runs one stage's grid as a sweep (resumable, isolated workers); one row per value, averaged over seeds. */
async function runStage(
  dir: string,
  stage: string,
  points: GridPoint[],
  workers: number,
): Promise<StageResult> {
  const stageDir = path.join(dir, stage);
  const runs: PlannedRun[] = points.map((point, index) => ({
    index,
    id: point.id,
    name: point.config.name,
    values: { [stage]: point.value, seed: point.seed, hash: runId(point.config) },
    config: { ...point.config, output: `runs/${point.id}` },
  }));
  writePlan(stageDir, {
    format: 'fisherlab-sweep-plan',
    version: 1,
    sweep: `demo-tuning-${stage}`,
    description: `demo tuning grid (${stage})`,
    source: 'fisherlab demo --tune',
    axes: [{ label: stage, size: points.length }],
    runs,
  });
  const display = createPoolDisplay({ sweep: `tuning ${stage}`, total: runs.length });
  const pool = await runLocalPool(stageDir, { workers, onEvent: display.onEvent });
  display.done();
  if (pool.interrupted) {
    throw new DemoError(`demo tuning interrupted; run the same command again to continue (${dir})`, 130);
  }
  const scale = DEMO_SCALES.full;
  const read = await readRuns(path.join(stageDir, 'runs'));
  const { summary } = composeReport(read, { tailEvaluations: scale.tailEvaluations });
  const summaries = new Map(summary.map((s: RunSummary) => [s.runId, s]));
  const infos = new Map(read.runs.map((r) => [r.id, r]));
  const rows = [...new Set(points.map((p) => p.value))].map((value): GridRow => {
    const at = points.filter((p) => p.value === value);
    const done = at.filter((p) => summaries.get(p.id)?.status === 'completed');
    const fits = done.map((p) => fitEpochOf(infos.get(p.id)!.records, FIT_THRESHOLD, scale.tailEvaluations));
    const pick = (f: (s: RunSummary) => number | null) => mean(done.map((p) => f(summaries.get(p.id)!)));
    return {
      value,
      lr: at[0]!.config.optimizer.lr,
      epochs: at[0]!.config.epochs ?? 0,
      seeds: done.length,
      fitted: fits.filter((e) => e !== null).length,
      fitEpoch: done.length === at.length ? fitBudget(fits, 1) : null,
      tailTestAccuracy: pick((s) => s.tailTestAccuracy),
      tailTrainAccuracy: pick((s) => s.tailTrainAccuracy),
      earlyMaxTraceF: pick((s) => s.earlyMaxTraceF),
      maxTraceF: pick((s) => s.maxTraceF),
      secondsPerEpoch: mean(done.map((p) => secondsPerEpoch(infos.get(p.id)!))),
    };
  });
  return { rows, runs: read.runs, summaries };
}

/** The fitted row with the best mean test accuracy (`score` may rank by another number). */
function bestFitted(
  rows: GridRow[],
  stage: string,
  score = (r: GridRow) => r.tailTestAccuracy ?? -1,
): GridRow {
  const fitted = rows.filter((r) => r.fitEpoch !== null && r.seeds > 0);
  if (fitted.length === 0) {
    throw new DemoError(
      `no point of the tuning grid '${stage}' fit its training data (${FIT_THRESHOLD * 100}% training accuracy) within its budget; see the runs under its directory, and widen the grid or the budget in packages/demo/src/tune.ts`,
    );
  }
  return fitted.reduce((a, b) => (score(b) > score(a) ? b : a));
}

/** The fields a draft tuning needs before its values are chosen (the cost model reads none of them). */
const PLACEHOLDER_TUNING: DemoTuning = {
  format: 'fisherlab-demo-tuning',
  version: 2,
  measured: { date: '', backend: '', machine: '', settings: '', criteria: [] },
  tunedLr: 0,
  smallLrDivisor: 0,
  smallLr: 0,
  fisherAlpha: 1,
  penaltyEvery: 1,
  epochs: { tuned: 0, small: 0, noisy: 0 },
  grids: { lr: [], ratio: [], fisherAlpha: [], penaltyEvery: [] },
};

const seedsOf = (value: number) =>
  TUNING_GRIDS.seeds.map((seed) => ({ value, seed, id: `${value}-s${seed}` }));

interface TuneContext {
  out: string;
  workers: number;
  scale: DemoScale;
}

const plainConfig = (
  c: TuneContext,
  lr: number,
  epochs: number,
  referenceLr: number,
  seed: number,
  name: string,
) => protocolConfig({ scale: c.scale, lr, epochs, referenceLr, seed, name });

/** Stage 1: the tuned rate, by the test accuracy of runs trained until they fit, and its budget. */
async function tuneLearningRate(c: TuneContext) {
  const grids = TUNING_GRIDS;
  const stage = await runStage(
    c.out,
    'lr',
    grids.lr.flatMap((lr) =>
      seedsOf(lr).map((p) => ({
        ...p,
        config: plainConfig(
          c,
          lr,
          Math.max(grids.minEpochs, Math.ceil(grids.lrTimesEpochs / lr)),
          lr,
          p.seed,
          `lr=${lr} seed=${p.seed}`,
        ),
      })),
    ),
    c.workers,
  );
  const tuned = bestFitted(stage.rows, 'lr');
  const epochs = fitBudget([tuned.fitEpoch], grids.fitMargin)!;
  return { stage, tuned, epochs, noisyEpochs: Math.ceil(epochs * grids.noisyBudgetFactor) };
}

/** Stage 2: the ratio, by the gap below the tuned rate, among ratios whose demo the budget affords. */
async function tuneSmallRate(c: TuneContext, lr: Awaited<ReturnType<typeof tuneLearningRate>>) {
  const grids = TUNING_GRIDS;
  const tunedLr = lr.tuned.value;
  const affordable = (ratio: number): boolean =>
    projectDemoSeconds(
      {
        ...PLACEHOLDER_TUNING,
        tunedLr,
        smallLrDivisor: ratio,
        smallLr: tunedLr / ratio,
        penaltyEvery: grids.penaltyEvery,
        epochs: {
          tuned: lr.epochs,
          small: Math.ceil(lr.tuned.fitEpoch! * ratio * grids.fitMargin),
          noisy: lr.noisyEpochs,
        },
      },
      c.scale,
      c.scale.seeds,
      c.workers,
    ) <= grids.demoBudgetSeconds;
  const ratios = grids.ratio.filter(affordable);
  const skippedRatios = grids.ratio.filter((r) => !affordable(r));
  if (ratios.length === 0) {
    throw new DemoError(
      `no small-rate ratio in {${grids.ratio.join(', ')}} fits the demo's budget of ${grids.demoBudgetSeconds / 60} min on this machine; see packages/demo/src/tune.ts`,
    );
  }
  const stage = await runStage(
    c.out,
    'ratio',
    ratios.flatMap((ratio) =>
      seedsOf(ratio).map((p) => ({
        ...p,
        config: plainConfig(
          c,
          tunedLr / ratio,
          Math.ceil(lr.tuned.fitEpoch! * ratio * grids.ratioEpochsFactor),
          tunedLr,
          p.seed,
          `ratio=${ratio} seed=${p.seed}`,
        ),
      })),
    ),
    c.workers,
  );
  const gapBelowTuned = (r: GridRow) => (lr.tuned.tailTestAccuracy ?? 0) - (r.tailTestAccuracy ?? 1);
  const small = bestFitted(stage.rows, 'ratio', gapBelowTuned);
  return { stage, small, epochs: fitBudget([small.fitEpoch], grids.fitMargin)!, skippedRatios };
}

/**
 * Stages 3 and 4: α at the small rate, penalized every k steps, on the small rate's budget; then the
 * chosen α every step against every k steps, each against the small rate alone.
 */
async function tunePenalty(
  c: TuneContext,
  tunedLr: number,
  small: Awaited<ReturnType<typeof tuneSmallRate>>,
) {
  const grids = TUNING_GRIDS;
  const fp = (alpha: number, every: number, seed: number) =>
    protocolConfig({
      scale: c.scale,
      lr: small.small.lr,
      epochs: small.epochs,
      referenceLr: tunedLr,
      seed,
      name: `α=${alpha} every ${every} seed=${seed}`,
      penalty: { kind: 'fisher', alpha, every },
    });
  const alphaStage = await runStage(
    c.out,
    'fisherAlpha',
    grids.fisherAlpha.flatMap((alpha) =>
      seedsOf(alpha).map((p) => ({ ...p, config: fp(alpha, grids.penaltyEvery, p.seed) })),
    ),
    c.workers,
  );
  const alpha = alphaStage.rows.reduce((a, b) =>
    (b.tailTestAccuracy ?? -1) > (a.tailTestAccuracy ?? -1) ? b : a,
  ).value;
  const everyStage = await runStage(
    c.out,
    'penaltyEvery',
    seedsOf(1).map((p) => ({ ...p, config: fp(alpha, 1, p.seed) })),
    c.workers,
  );
  const cheapRow = alphaStage.rows.find((r) => r.value === alpha)!;
  const everyRows: GridRow[] = [everyStage.rows[0]!, { ...cheapRow, value: grids.penaltyEvery }];
  const keeps = keepsTheFinding(
    { small: small.stage, smallValue: small.small.value },
    { stage: everyStage, value: 1 },
    { stage: alphaStage, value: alpha },
  );
  return { alphaStage, alpha, everyRows, penaltyEvery: keeps ? grids.penaltyEvery : 1 };
}

/**
 * Chooses the demo's learning rates, penalty strength, penalty interval and budgets on the demo's
 * protocol, and records the grids with the choices in tuning.json.
 */
export async function tuneDemo(options: { out: string; workers: number }): Promise<DemoTuning> {
  const c: TuneContext = { ...options, scale: DEMO_SCALES.full };
  const lr = await tuneLearningRate(c);
  const small = await tuneSmallRate(c, lr);
  const penalty = await tunePenalty(c, lr.tuned.value, small);
  const tuning: DemoTuning = {
    format: 'fisherlab-demo-tuning',
    version: 2,
    measured: {
      date: new Date().toISOString().slice(0, 10),
      backend: 'auto',
      machine: `${os.availableParallelism()} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
      settings: describeTuningProtocol(c.scale, small.skippedRatios),
      criteria: TUNING_CRITERIA,
    },
    tunedLr: lr.tuned.value,
    smallLrDivisor: small.small.value,
    smallLr: small.small.lr,
    fisherAlpha: penalty.alpha,
    penaltyEvery: penalty.penaltyEvery,
    epochs: { tuned: lr.epochs, small: small.epochs, noisy: lr.noisyEpochs },
    grids: {
      lr: lr.stage.rows,
      ratio: small.stage.rows,
      fisherAlpha: penalty.alphaStage.rows,
      penaltyEvery: penalty.everyRows,
    },
  };
  writeFileAtomic(fileURLToPath(TUNING_FILE), `${JSON.stringify(tuning, null, 2)}\n`);
  return tuning;
}

/** How each value is chosen, in words (recorded in tuning.json and printed in the report). */
export const TUNING_CRITERIA = [
  `lr: the best mean test accuracy among rates whose every run fit (${FIT_THRESHOLD * 100}% training accuracy, mean of the last evaluations) within max(${TUNING_GRIDS.minEpochs}, ${TUNING_GRIDS.lrTimesEpochs} / lr) epochs`,
  `ratio: the largest mean test-accuracy gap below the tuned rate among ratios whose every run fit within ratio × the tuned fit epoch × ${TUNING_GRIDS.ratioEpochsFactor}, and whose demo fits ${TUNING_GRIDS.demoBudgetSeconds / 60} min`,
  `budgets: the latest fit epoch over the tuning seeds × ${TUNING_GRIDS.fitMargin}, rounded up; the noisy pair ${TUNING_GRIDS.noisyBudgetFactor}x the tuned budget; a penalized arm has its twin's budget`,
  `α: the best mean test accuracy of small lr + FP (every ${TUNING_GRIDS.penaltyEvery} steps) on the small rate's budget`,
  `k: every ${TUNING_GRIDS.penaltyEvery} steps when, on every tuning seed where FP every step lowers max Tr(F) and raises test accuracy over the small rate alone, FP every ${TUNING_GRIDS.penaltyEvery} steps does too; otherwise every step`,
];

function describeTuningProtocol(scale: DemoScale, skippedRatios: number[]): string {
  const g = TUNING_GRIDS;
  return (
    `the demo's protocol (${scale.trainSubset} train / ${scale.testSubset} test images, constant lr, SGD momentum 0.9, accuracy = mean of the last ${scale.tailEvaluations} evaluations), seeds ${g.seeds.join(', ')} (apart from the demo's); ` +
    `lr ∈ {${g.lr.join(', ')}}; ratio ∈ {${g.ratio.join(', ')}}${skippedRatios.length ? ` (not run, their demo exceeds the budget: ${skippedRatios.join(', ')})` : ''}; ` +
    `FP α ∈ {${g.fisherAlpha.join(', ')}} every ${g.penaltyEvery} steps, then the chosen α every step`
  );
}

/**
 * Whether FP every k steps shows what FP every step shows, seed by seed: on each seed where the
 * every-step run has a lower max Tr(F) and a higher test accuracy than the small rate alone, the
 * every-k run must have both too.
 */
function keepsTheFinding(
  base: { small: StageResult; smallValue: number },
  everyStep: { stage: StageResult; value: number },
  everyK: { stage: StageResult; value: number },
): boolean {
  return TUNING_GRIDS.seeds.every((seed) => {
    const small = base.small.summaries.get(`${base.smallValue}-s${seed}`);
    const one = everyStep.stage.summaries.get(`${everyStep.value}-s${seed}`);
    const k = everyK.stage.summaries.get(`${everyK.value}-s${seed}`);
    if (!small || !one || !k) return false;
    const shows = (r: RunSummary) =>
      (r.maxTraceF ?? Infinity) < (small.maxTraceF ?? -Infinity) &&
      (r.tailTestAccuracy ?? -1) > (small.tailTestAccuracy ?? 2);
    return !shows(one) || shows(k);
  });
}
