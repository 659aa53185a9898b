import { readFileSync } from 'node:fs';
import { type PlannedRun, runId, type SweepPlan } from '@fisherlab/sweeps';
import { parseRunConfig, type RunConfig } from '@fisherlab/training';

/**
 * The demo's protocol (PAPER.md, "What the paper shows" and "Method notes"), on the real
 * Fashion-MNIST subset embedded in FisherLab:
 * - every arm trains with cosine decay for its own budget of epochs: the small rate (tuned / 10) gets
 *   about 7x the epochs of the tuned one, measured to bring both to a similar training accuracy
 *   (the findings print each arm's fit, so a budget that stops fitting shows);
 * - every arm runs with several seeds; a finding is a paired per-seed difference with its standard
 *   error and 95% interval;
 * - accuracy is the mean of a run's last few evaluations;
 * - "early" Tr(F) is the maximum over a window that scales with 1/lr (2 epochs at the tuned rate,
 *   20 at a 10x smaller one), sampled densely there.
 * The learning rate and α come from apps/cli/demo/tuning.json, written by `fisherlab demo --tune`
 * on this same protocol.
 */
export interface DemoTuning {
  /** When and where the grids were run, and on what protocol. */
  measured: { date: string; backend: string; machine: string; settings: string };
  tunedLr: number;
  /** The small learning rate is the tuned one divided by this (the paper: 10-30x smaller). */
  smallLrDivisor: number;
  smallLr: number;
  /** α of the Fisher penalty, at the small rate and for the noisy-label pair. */
  fisherAlpha: number;
  grids: { lr: GridRow[]; fisherAlpha: GridRow[] };
}

/** One grid point: means across the seeds it ran with. */
export interface GridRow {
  value: number;
  seeds: number;
  tailTestAccuracy: number;
  tailTrainAccuracy: number;
  maxTraceF: number;
}

export interface DemoScale {
  trainSubset: number;
  testSubset: number;
  /** Seeds 0 .. seeds − 1 (more with --seeds). */
  seeds: number;
  /** Epochs at the tuned rate. */
  tunedEpochs: number;
  /** Epochs at the small rate (with and without the penalty). */
  smallEpochs: number;
  /** Epochs of the noisy-label pair (at the tuned rate; memorization needs the longer budget). */
  noisyEpochs: number;
  trackingSubset: number;
  /** About this many evaluations per run, whatever its length. */
  evaluationsPerRun: number;
  /** Evaluations averaged for a run's accuracy. */
  tailEvaluations: number;
  /** The early window at the tuned rate, in epochs (scaled by tunedLr / lr for other rates). */
  earlyEpochs: number;
  /** Tr(F) measurements in the early window, and over the rest of the run. */
  earlyMeasurements: number;
  laterMeasurements: number;
}

export const DEMO_SCALES: Record<'full' | 'quick', DemoScale> = {
  full: {
    trainSubset: 2000,
    testSubset: 2000,
    seeds: 3,
    tunedEpochs: 15,
    smallEpochs: 100,
    noisyEpochs: 30,
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
    tunedEpochs: 1,
    smallEpochs: 2,
    noisyEpochs: 2,
    trackingSubset: 64,
    evaluationsPerRun: 2,
    tailEvaluations: 2,
    earlyEpochs: 0.5,
    earlyMeasurements: 2,
    laterMeasurements: 2,
  },
};

export const BATCH_SIZE = 64;
export const NOISE_FRACTION = 0.2;

export const DEMO_ARMS = ['tuned', 'small', 'small+FP', 'noisy', 'noisy+FP'] as const;
export type DemoArm = (typeof DEMO_ARMS)[number];

export const TUNING_FILE = new URL('../../demo/tuning.json', import.meta.url);

export function readDemoTuning(): DemoTuning {
  return JSON.parse(readFileSync(TUNING_FILE, 'utf8')) as DemoTuning;
}

/** What each arm is, in words: run names, report groups and chart legends use these. */
export function armLabel(arm: DemoArm, tuning: DemoTuning): string {
  const tuned = `lr ${tuning.tunedLr} (tuned)`;
  const small = `lr ${tuning.smallLr} (tuned / ${tuning.smallLrDivisor})`;
  const fp = ` + FP α=${tuning.fisherAlpha}`;
  const noisy = `${Math.round(NOISE_FRACTION * 100)}% noisy labels, ${tuned}`;
  return { tuned, small, 'small+FP': small + fp, noisy, 'noisy+FP': noisy + fp }[arm];
}

/** The learning rate and epochs of an arm. */
export function armSchedule(
  arm: DemoArm,
  tuning: DemoTuning,
  scale: DemoScale,
): { lr: number; epochs: number } {
  if (arm === 'small' || arm === 'small+FP') {
    return { lr: tuning.smallLr, epochs: scale.smallEpochs };
  }
  return { lr: tuning.tunedLr, epochs: arm === 'tuned' ? scale.tunedEpochs : scale.noisyEpochs };
}

/**
 * The config of one training run of the protocol: embedded data, the demo CNN, SGD with momentum
 * and cosine decay, evaluations spread over the run, Tr(F) sampled densely in the lr-scaled early
 * window. `referenceLr` is the tuned rate the early window is defined at.
 */
export function protocolConfig(o: {
  scale: DemoScale;
  lr: number;
  epochs: number;
  referenceLr: number;
  seed: number;
  penalty?: { kind: 'fisher' | 'gradnorm'; alpha: number };
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
      model: { arch: 'simplecnn', options: { filters: [16, 32], hiddenUnits: 64 } },
      optimizer: { name: 'sgd', lr: o.lr, momentum: 0.9 },
      schedule: { kind: 'cosine' },
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
    ...(arm.endsWith('+FP') ? { penalty: { kind: 'fisher', alpha: tuning.fisherAlpha } } : {}),
  });
}

/** Relative cost of a run (a penalized step costs about 2.3 plain ones), to start the longest first. */
export function runCost(config: RunConfig): number {
  return (config.epochs ?? 1) * (config.penalty.kind === 'none' ? 1 : 2.3);
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
