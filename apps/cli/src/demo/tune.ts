import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { composeReport, type RunSummary, readRuns } from '@fisherlab/analysis';
import { parseRunConfig } from '../config/load.js';
import { UserError } from '../errors.js';
import { createPoolDisplay, runLocalPool } from '../sweep/local-pool.js';
import { type PlannedRun, runId, writePlan } from '../sweep/plan.js';
import { DEMO_SCALES, type DemoTuning, demoBase, type GridRow, TUNING_FILE } from './plan.js';

/** The grids `fisherlab demo --tune` searches (a small budget, the same for FP and GradNorm). */
export const TUNING_GRIDS = {
  lr: [0.01, 0.03, 0.1],
  /** The small learning rate is the tuned one divided by this (the paper: 10-30x smaller). */
  smallLrDivisor: 10,
  fisherAlpha: [0.03, 0.1, 0.3],
  gradNormAlpha: [0.03, 0.1, 0.3],
  /** Epochs of the penalty grids (the demo's own budget). */
  penaltyGridEpochs: 30,
} as const;

type Stage = 'lr' | 'alpha';

interface GridPoint {
  /** Name of the run, e.g. 'fisherAlpha=0.1'. */
  name: string;
  value: number;
  config: Record<string, unknown>;
}

/** Runs one grid as a sweep (resumable, isolated workers) and reads each point's final numbers. */
async function runGrid(
  dir: string,
  stage: Stage,
  points: GridPoint[],
  workers: number,
): Promise<Map<string, GridRow>> {
  const stageDir = path.join(dir, stage);
  const runs: PlannedRun[] = points.map((point, index) => {
    const config = parseRunConfig({ ...point.config, name: point.name, output: 'x' }, `tuning ${point.name}`);
    const id = point.name.replace('=', '-');
    return {
      index,
      id,
      name: point.name,
      values: { [point.name]: point.value, hash: runId(config) },
      config: { ...config, output: `runs/${id}` },
    };
  });
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
  await runLocalPool(stageDir, { workers, onEvent: display.onEvent });
  display.done();
  const { summary } = composeReport(await readRuns(path.join(stageDir, 'runs')));
  const rows = new Map<string, GridRow>();
  for (const point of points) {
    const row = summary.find((s: RunSummary) => s.name === point.name);
    rows.set(point.name, {
      value: point.value,
      finalTestAccuracy: row?.status === 'completed' ? (row.finalTestAccuracy ?? Number.NaN) : Number.NaN,
      finalTrainAccuracy: row?.finalTrainAccuracy ?? Number.NaN,
      maxTraceF: row?.maxTraceF ?? Number.NaN,
    });
  }
  return rows;
}

const best = (rows: GridRow[]): number => {
  const finished = rows.filter((r) => Number.isFinite(r.finalTestAccuracy));
  if (finished.length === 0)
    throw new UserError('every run of a tuning grid failed or diverged; see the run logs');
  return finished.reduce((a, b) => (b.finalTestAccuracy > a.finalTestAccuracy ? b : a)).value;
};

/**
 * Chooses the demo's learning rates and penalty strengths by grid search at the full demo scale
 * (best final test accuracy), and records the grids with the choice in demo/tuning.json.
 */
export async function tuneDemo(options: { out: string; workers: number; seed: number }): Promise<DemoTuning> {
  const scale = DEMO_SCALES.full;
  const base = demoBase(scale, options.seed) as { optimizer: Record<string, unknown> };
  const withLr = (lr: number, epochs = scale.epochs) => ({
    ...base,
    epochs,
    optimizer: { ...base.optimizer, lr },
  });
  const lrGrid = await runGrid(
    options.out,
    'lr',
    TUNING_GRIDS.lr.map((lr) => ({ name: `lr=${lr}`, value: lr, config: withLr(lr) })),
    options.workers,
  );
  const lrRows = [...lrGrid.values()];
  const tunedLr = best(lrRows);
  const smallLr = tunedLr / TUNING_GRIDS.smallLrDivisor;
  // FP and GradNorm get the same budget: the same alphas, the same (shorter) number of epochs.
  const penaltyPoints = (kind: 'fisher' | 'gradnorm', key: string, alphas: readonly number[]): GridPoint[] =>
    alphas.map((alpha) => ({
      name: `${key}=${alpha}`,
      value: alpha,
      config: { ...withLr(smallLr, TUNING_GRIDS.penaltyGridEpochs), penalty: { kind, alpha } },
    }));
  const alphaGrid = await runGrid(
    options.out,
    'alpha',
    [
      ...penaltyPoints('fisher', 'fisherAlpha', TUNING_GRIDS.fisherAlpha),
      ...penaltyPoints('gradnorm', 'gradNormAlpha', TUNING_GRIDS.gradNormAlpha),
    ],
    options.workers,
  );
  const fpRows = TUNING_GRIDS.fisherAlpha.map((a) => alphaGrid.get(`fisherAlpha=${a}`)!);
  const gnRows = TUNING_GRIDS.gradNormAlpha.map((a) => alphaGrid.get(`gradNormAlpha=${a}`)!);
  const tuning: DemoTuning = {
    measured: {
      date: new Date().toISOString().slice(0, 10),
      backend: 'auto',
      machine: `${os.availableParallelism()} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
      settings: `demo data (${scale.trainSubset} train / ${scale.testSubset} test), seed ${options.seed}; lr grid ${scale.epochs} epochs, alpha grids ${TUNING_GRIDS.penaltyGridEpochs} epochs at the small lr; criterion: best final test accuracy; small lr = tuned / ${TUNING_GRIDS.smallLrDivisor}`,
    },
    tunedLr,
    smallLr,
    fisherAlpha: best(fpRows),
    gradNormAlpha: best(gnRows),
    grids: { lr: lrRows, fisherAlpha: fpRows, gradNormAlpha: gnRows },
  };
  writeFileSync(TUNING_FILE, `${JSON.stringify(tuning, null, 2)}\n`);
  return tuning;
}
