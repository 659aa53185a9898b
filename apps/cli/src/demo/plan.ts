import { readFileSync } from 'node:fs';
import { parseRunConfig } from '../config/load.js';
import type { RunConfig } from '../config/schema.js';
import { type PlannedRun, runId, type SweepPlan } from '../sweep/plan.js';

/**
 * The demo's fixed set of runs (PAPER.md, "What the paper shows"), on the embedded real
 * Fashion-MNIST subset. Its learning rates and penalty strengths come from apps/cli/demo/tuning.json, which
 * records the grids they were chosen from (made by `fisherlab demo --tune`).
 */
export interface DemoTuning {
  /** When and where the grids were run. */
  measured: { date: string; backend: string; machine: string; settings: string };
  tunedLr: number;
  smallLr: number;
  fisherAlpha: number;
  gradNormAlpha: number;
  grids: { lr: GridRow[]; fisherAlpha: GridRow[]; gradNormAlpha: GridRow[] };
}

export interface GridRow {
  value: number;
  finalTestAccuracy: number;
  finalTrainAccuracy: number;
  maxTraceF: number;
}

export interface DemoScale {
  trainSubset: number;
  testSubset: number;
  epochs: number;
  trackingSubset: number;
}

export const DEMO_SCALES: Record<'full' | 'quick', DemoScale> = {
  full: { trainSubset: 2000, testSubset: 2000, epochs: 30, trackingSubset: 256 },
  quick: { trainSubset: 600, testSubset: 500, epochs: 3, trackingSubset: 64 },
};

export const DEMO_ARMS = ['tuned-lr', 'small-lr', 'small-lr+FP', 'small-lr+GN', 'noisy', 'noisy+FP'] as const;
export type DemoArm = (typeof DEMO_ARMS)[number];

export const TUNING_FILE = new URL('../../demo/tuning.json', import.meta.url);

export function readDemoTuning(): DemoTuning {
  return JSON.parse(readFileSync(TUNING_FILE, 'utf8')) as DemoTuning;
}

/** The config shared by every arm: embedded data, the demo CNN, SGD with momentum, Tr(F) tracking. */
export function demoBase(scale: DemoScale, seed: number): Record<string, unknown> {
  return {
    dataset: { name: 'default', trainSubset: scale.trainSubset, testSubset: scale.testSubset },
    model: { arch: 'simplecnn', options: { filters: [16, 32], hiddenUnits: 64 } },
    optimizer: { name: 'sgd', lr: 0.01, momentum: 0.9 },
    // Cosine decay: the final accuracy then reflects where training went, not the last steps' noise.
    schedule: { kind: 'cosine' },
    batchSize: 64,
    epochs: scale.epochs,
    tracking: {
      estimator: 'mc',
      subset: scale.trackingSubset,
      every: Math.ceil(scale.trainSubset / 64),
      earlyEpochs: 2,
      earlyEvery: Math.max(1, Math.floor(scale.trainSubset / 64 / 6)),
    },
    logEvery: 10,
    seed,
    backend: 'auto',
  };
}

/** The run config of one arm. */
export function demoArmConfig(arm: DemoArm, tuning: DemoTuning, scale: DemoScale, seed: number): RunConfig {
  const base = demoBase(scale, seed) as {
    optimizer: Record<string, unknown>;
    dataset: Record<string, unknown>;
  };
  const small = arm.startsWith('small');
  const noisy = arm.startsWith('noisy');
  const penalty =
    arm === 'small-lr+FP' || arm === 'noisy+FP'
      ? { kind: 'fisher', alpha: tuning.fisherAlpha }
      : arm === 'small-lr+GN'
        ? { kind: 'gradnorm', alpha: tuning.gradNormAlpha }
        : { kind: 'none' };
  return parseRunConfig(
    {
      ...base,
      name: arm,
      tags: ['demo'],
      optimizer: { ...base.optimizer, lr: small ? tuning.smallLr : tuning.tunedLr },
      dataset: { ...base.dataset, ...(noisy ? { noise: { fraction: 0.2, mode: 'symmetric' } } : {}) },
      penalty,
      output: `runs/${arm}`,
    },
    `demo arm ${arm}`,
  );
}

/** The demo as a sweep plan, so the sweep machinery runs it (two workers, resumable, isolated). */
export function demoPlan(tuning: DemoTuning, scale: DemoScale, seed: number): SweepPlan {
  const runs: PlannedRun[] = DEMO_ARMS.map((arm, index) => {
    const config = demoArmConfig(arm, tuning, scale, seed);
    const id = `${index + 1}-${arm.replace('+', '-')}`;
    return {
      index,
      id,
      name: arm,
      values: { arm, hash: runId(config) },
      config: { ...config, output: `runs/${id}` },
    };
  });
  return {
    format: 'fisherlab-sweep-plan',
    version: 1,
    sweep: 'fisherlab-demo',
    description: "The paper's three findings on the embedded Fashion-MNIST subset",
    source: 'fisherlab demo',
    axes: [{ label: 'arm', size: runs.length }],
    runs,
  };
}
