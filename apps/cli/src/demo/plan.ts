import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type PlannedRun, runId, type SweepPlan } from '@fisherlab/sweeps';
import { parseRunConfig, type RunConfig } from '@fisherlab/training';
import { UserError } from '../errors.js';

/**
 * The demo's protocol (PAPER.md, "What the paper shows" and "Method notes"), on the real
 * Fashion-MNIST subset embedded in FisherLab:
 * - every arm trains at a constant learning rate (a decaying schedule would end every run at a tiny
 *   rate and blur the large-vs-small contrast the paper is about), SGD with momentum 0.9, no weight
 *   decay, no augmentation;
 * - every clean arm trains until it fits: its budget of epochs is the one `fisherlab demo --tune`
 *   measured to bring every tuning seed to FIT_THRESHOLD training accuracy (mean of the last few
 *   evaluations), with a margin; the FP arm gets exactly its small-lr twin's budget; the report
 *   prints every arm's fit;
 * - every arm runs with several seeds; a finding is a paired per-seed difference with its standard
 *   error and 95% interval;
 * - accuracy is the mean of a run's last few evaluations;
 * - "early" Tr(F) is the maximum over a window that scales with 1/lr (the tuned rate's window
 *   times tunedLr / lr), sampled densely there.
 * The learning rates, α, k and budgets come from apps/cli/demo/tuning.json, written by
 * `fisherlab demo --tune` on this same protocol.
 */
export interface DemoTuning {
  format: 'fisherlab-demo-tuning';
  version: 2;
  /** When and where the grids were run, on what protocol, and how each value was chosen. */
  measured: { date: string; backend: string; machine: string; settings: string; criteria: string[] };
  tunedLr: number;
  /** The small learning rate is the tuned one divided by this (the paper: 10-30x smaller). */
  smallLrDivisor: number;
  smallLr: number;
  /** α of the Fisher penalty, at the small rate and for the noisy-label pair. */
  fisherAlpha: number;
  /** The penalty is applied every k steps (k = 1: every step). */
  penaltyEvery: number;
  /** Epochs of each pair of arms: measured to fit (small+FP takes small's; noisy+FP noisy's). */
  epochs: { tuned: number; small: number; noisy: number };
  grids: { lr: GridRow[]; ratio: GridRow[]; fisherAlpha: GridRow[]; penaltyEvery: GridRow[] };
}

/** One grid point: means across the seeds it ran with. */
export interface GridRow {
  /** The value searched (a learning rate, a ratio, an α or a k). */
  value: number;
  /** The learning rate the point trained at, and for how many epochs. */
  lr: number;
  epochs: number;
  /** Finished runs, and how many of them reached FIT_THRESHOLD training accuracy. */
  seeds: number;
  fitted: number;
  /** The latest epoch (over seeds) at which a run first fitted; null when one never did. */
  fitEpoch: number | null;
  tailTestAccuracy: number | null;
  tailTrainAccuracy: number | null;
  earlyMaxTraceF: number | null;
  maxTraceF: number | null;
  /** Mean wall time of one epoch of a run at this point, as measured (the demo's cost model). */
  secondsPerEpoch: number | null;
}

export interface DemoScale {
  trainSubset: number;
  testSubset: number;
  /** Seeds 0 .. seeds − 1 (more with --seeds). */
  seeds: number;
  /** Budgets that replace the tuned ones (the quick smoke test only). */
  epochs?: DemoTuning['epochs'];
  trackingSubset: number;
  /** About this many evaluations per run, whatever its length. */
  evaluationsPerRun: number;
  /** Evaluations averaged for a run's accuracy (and for its fit). */
  tailEvaluations: number;
  /** The early window at the tuned rate, in epochs (scaled by tunedLr / lr for other rates). */
  earlyEpochs: number;
  /** Tr(F) measurements in the early window, and over the rest of the run. */
  earlyMeasurements: number;
  laterMeasurements: number;
}

export const DEMO_SCALES: Record<'full' | 'quick', DemoScale> = {
  full: {
    trainSubset: 500,
    testSubset: 2000,
    seeds: 5,
    trackingSubset: 256,
    evaluationsPerRun: 20,
    tailEvaluations: 3,
    earlyEpochs: 2,
    earlyMeasurements: 12,
    laterMeasurements: 12,
  },
  quick: {
    trainSubset: 512,
    testSubset: 500,
    seeds: 2,
    epochs: { tuned: 1, small: 2, noisy: 2 },
    trackingSubset: 64,
    evaluationsPerRun: 2,
    tailEvaluations: 2,
    earlyEpochs: 0.5,
    earlyMeasurements: 2,
    laterMeasurements: 2,
  },
};

/** A clean arm has fit its training data when the mean of its last few evaluations reaches this. */
export const FIT_THRESHOLD = 0.99;
export const BATCH_SIZE = 64;
export const MOMENTUM = 0.9;
export const DEMO_MODEL = { arch: 'simplecnn', options: { filters: [16, 32], hiddenUnits: 64 } };
export const NOISE_FRACTION = 0.2;

export const DEMO_ARMS = ['tuned', 'small', 'small+FP', 'noisy', 'noisy+FP'] as const;
export type DemoArm = (typeof DEMO_ARMS)[number];

export const TUNING_FILE = new URL('../../demo/tuning.json', import.meta.url);

export function readDemoTuning(file: URL = TUNING_FILE): DemoTuning {
  const where = fileURLToPath(file);
  let parsed: Partial<DemoTuning>;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<DemoTuning>;
  } catch (error) {
    throw new UserError(
      `cannot read the demo's tuning ${where}: ${error instanceof Error ? error.message : String(error)}. Fix: restore it from the repository, or write it anew with \`fisherlab demo --tune\`.`,
    );
  }
  if (parsed.format !== 'fisherlab-demo-tuning' || parsed.version !== 2) {
    throw new UserError(
      `${where} is not a version-2 demo tuning (format ${String(parsed.format)}, version ${String(parsed.version)}). Fix: write it anew with \`fisherlab demo --tune\`.`,
    );
  }
  return parsed as DemoTuning;
}

/** What each arm is, in words: run names, report groups and chart legends use these. */
export function armLabel(arm: DemoArm, tuning: DemoTuning): string {
  const tuned = `lr ${tuning.tunedLr} (tuned)`;
  const small = `lr ${tuning.smallLr} (tuned / ${tuning.smallLrDivisor})`;
  const every = tuning.penaltyEvery > 1 ? ` every ${tuning.penaltyEvery} steps` : '';
  const fp = ` + FP α=${tuning.fisherAlpha}${every}`;
  const noisy = `${Math.round(NOISE_FRACTION * 100)}% noisy labels, ${tuned}`;
  return { tuned, small, 'small+FP': small + fp, noisy, 'noisy+FP': noisy + fp }[arm];
}

/** The learning rate and epochs of an arm: a penalized arm has its unpenalized twin's budget. */
export function armSchedule(
  arm: DemoArm,
  tuning: DemoTuning,
  scale: DemoScale,
): { lr: number; epochs: number } {
  const epochs = scale.epochs ?? tuning.epochs;
  if (arm === 'small' || arm === 'small+FP') return { lr: tuning.smallLr, epochs: epochs.small };
  return { lr: tuning.tunedLr, epochs: arm === 'tuned' ? epochs.tuned : epochs.noisy };
}

/**
 * The config of one training run of the protocol: embedded data, the demo CNN, SGD with momentum
 * at a constant rate, evaluations spread over the run, Tr(F) sampled densely in the lr-scaled early
 * window. `referenceLr` is the tuned rate the early window is defined at.
 */
export function protocolConfig(o: {
  scale: DemoScale;
  lr: number;
  epochs: number;
  referenceLr: number;
  seed: number;
  penalty?: { kind: 'fisher' | 'gradnorm'; alpha: number; every: number };
  noise?: boolean;
  name: string;
  tags?: string[];
}): RunConfig {
  const { scale } = o;
  const stepsPerEpoch = Math.ceil(scale.trainSubset / BATCH_SIZE);
  const earlyEpochs = Math.min(o.epochs, (scale.earlyEpochs * o.referenceLr) / o.lr);
  return parseRunConfig(
    {
      name: o.name,
      tags: o.tags ?? ['demo'],
      dataset: {
        name: 'default',
        trainSubset: scale.trainSubset,
        testSubset: scale.testSubset,
        ...(o.noise ? { noise: { fraction: NOISE_FRACTION, mode: 'symmetric' } } : {}),
      },
      model: DEMO_MODEL,
      optimizer: { name: 'sgd', lr: o.lr, momentum: MOMENTUM },
      schedule: { kind: 'constant' },
      batchSize: BATCH_SIZE,
      epochs: o.epochs,
      penalty: o.penalty ?? { kind: 'none' },
      evaluation: { everyEpochs: Math.max(1, Math.round(o.epochs / scale.evaluationsPerRun)) },
      tracking: {
        estimator: 'mc',
        subset: scale.trackingSubset,
        earlyEpochs,
        earlyEvery: Math.max(1, Math.floor((earlyEpochs * stepsPerEpoch) / scale.earlyMeasurements)),
        every: Math.max(1, Math.round((o.epochs * stepsPerEpoch) / scale.laterMeasurements)),
      },
      logEvery: Math.max(1, Math.round((o.epochs * stepsPerEpoch) / 40)),
      seed: o.seed,
      backend: 'auto',
      output: 'runs/x',
    },
    `demo run ${o.name}`,
  );
}

/** The run config of one arm at one seed. */
export function demoArmConfig(arm: DemoArm, tuning: DemoTuning, scale: DemoScale, seed: number): RunConfig {
  const { lr, epochs } = armSchedule(arm, tuning, scale);
  return protocolConfig({
    scale,
    lr,
    epochs,
    referenceLr: tuning.tunedLr,
    seed,
    name: armLabel(arm, tuning),
    tags: ['demo', `arm:${arm}`],
    noise: arm.startsWith('noisy'),
    ...(arm.endsWith('+FP')
      ? { penalty: { kind: 'fisher', alpha: tuning.fisherAlpha, every: tuning.penaltyEvery } }
      : {}),
  });
}

/**
 * Cost of a penalized step in plain steps: SimpleCNN's double backprop on the native backend
 * (benchmarks/results/README.md: 189 ms against 56 ms at batch 128).
 */
export const PENALIZED_STEP_COST = 3.4;

/**
 * Worker-seconds of one plain epoch of 1,000 training examples, evaluations included, on the
 * native backend with one thread per worker: the demo's cost model, from a full demo on 2 idle
 * cores (2,664 such epochs in 5 min 54 s on 2 workers, benchmarks/results/README.md).
 */
export const SECONDS_PER_PLAIN_EPOCH = 0.27;

/**
 * Relative cost of a run, in plain epochs of the training set: to start the longest first and to
 * estimate the time left.
 */
export function runCost(config: RunConfig): number {
  const perStep = config.penalty.kind === 'none' ? 1 : 1 + (PENALIZED_STEP_COST - 1) / config.penalty.every;
  return (config.epochs ?? 1) * perStep * ((config.dataset.trainSubset ?? 1) / 1000);
}

/** The demo's wall time on idle cores, projected by the cost model (runCost × SECONDS_PER_PLAIN_EPOCH). */
export function projectDemoSeconds(
  tuning: DemoTuning,
  scale: DemoScale,
  seeds: number,
  workers: number,
): number {
  const cost = demoSeeds(seeds)
    .flatMap((seed) => DEMO_ARMS.map((arm) => runCost(demoArmConfig(arm, tuning, scale, seed))))
    .reduce((a, b) => a + b, 0);
  return (cost * SECONDS_PER_PLAIN_EPOCH) / workers;
}

/** The run of `arm` at `seed` in a plan: directory `runs/s<seed>-<arm>`. */
export function demoRunId(arm: DemoArm, seed: number): string {
  return `s${seed}-${arm.replace('+', '-')}`;
}

export const demoSeeds = (count: number): number[] => Array.from({ length: count }, (_, i) => i);

/**
 * The demo as a sweep plan, so the sweep machinery runs it (two workers, resumable, isolated).
 * Runs are ordered longest first, so the two workers finish close together.
 */
export function demoPlan(tuning: DemoTuning, scale: DemoScale, seeds: readonly number[]): SweepPlan {
  const planned = seeds.flatMap((seed) =>
    DEMO_ARMS.map((arm) => ({ arm, seed, config: demoArmConfig(arm, tuning, scale, seed) })),
  );
  planned.sort((a, b) => runCost(b.config) - runCost(a.config));
  const runs: PlannedRun[] = planned.map(({ arm, seed, config }, index) => {
    const id = demoRunId(arm, seed);
    return {
      index,
      id,
      name: config.name,
      values: { arm, seed, hash: runId(config) },
      config: { ...config, output: `runs/${id}` },
    };
  });
  return {
    format: 'fisherlab-sweep-plan',
    version: 1,
    sweep: 'fisherlab-demo',
    description: "The paper's three findings on the embedded Fashion-MNIST subset, paired across seeds",
    source: 'fisherlab demo',
    axes: [
      { label: 'seed', size: seeds.length },
      { label: 'arm', size: DEMO_ARMS.length },
    ],
    runs,
  };
}
