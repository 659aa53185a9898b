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
  smallLrDivisor: 20,
  fisherAlpha: [0.03, 0.1, 0.3],
  gradNormAlpha: [0.03, 0.1, 0.3],
} as const;

type Stage = 'lr' | 'fisherAlpha' | 'gradNormAlpha';

async function runGrid(
  dir: string,
  stage: Stage,
  values: readonly number[],
  make: (value: number) => Record<string, unknown>,
  workers: number,
): Promise<GridRow[]> {
  const stageDir = path.join(dir, stage);
  const runs: PlannedRun[] = values.map((value, index) => {
    const config = parseRunConfig(
      { ...make(value), name: `${stage}=${value}`, output: 'x' },
      `tuning ${stage}=${value}`,
    );
    const id = `${stage}-${value}`;
    return {
      index,
      id,
      name: config.name,
      values: { [stage]: value, hash: runId(config) },
      config: { ...config, output: `runs/${id}` },
    };
  });
  writePlan(stageDir, {
    format: 'fisherlab-sweep-plan',
    version: 1,
    sweep: `demo-tuning-${stage}`,
    description: `demo tuning grid over ${stage}`,
    source: 'fisherlab demo --tune',
    axes: [{ label: stage, size: values.length }],
    runs,
  });
  const display = createPoolDisplay({ sweep: `tuning ${stage}`, total: runs.length });
  await runLocalPool(stageDir, { workers, onEvent: display.onEvent });
  display.done();
  const { summary } = composeReport(await readRuns(path.join(stageDir, 'runs')));
  return values.map((value) => {
    const row = summary.find((s: RunSummary) => s.name === `${stage}=${value}`);
    return {
      value,
      finalTestAccuracy: row?.status === 'completed' ? (row.finalTestAccuracy ?? Number.NaN) : Number.NaN,
      finalTrainAccuracy: row?.finalTrainAccuracy ?? Number.NaN,
      maxTraceF: row?.maxTraceF ?? Number.NaN,
    };
  });
}

const best = (rows: GridRow[]): number => {
  const finished = rows.filter((r) => Number.isFinite(r.finalTestAccuracy));
  if (finished.length === 0)
    throw new UserError('every run of a tuning grid failed or diverged; see the run logs');
  return finished.reduce((a, b) => (b.finalTestAccuracy > a.finalTestAccuracy ? b : a)).value;
};

/**
 * Chooses the demo's learning rates and penalty strengths by grid search at the full demo scale
 * (best final test accuracy), and records the grids with the choice in presets/demo-tuning.json.
 */
export async function tuneDemo(options: { out: string; workers: number; seed: number }): Promise<DemoTuning> {
  const scale = DEMO_SCALES.full;
  const base = demoBase(scale, options.seed) as { optimizer: Record<string, unknown> };
  const withLr = (lr: number) => ({ ...base, optimizer: { ...base.optimizer, lr } });
  const lrRows = await runGrid(options.out, 'lr', TUNING_GRIDS.lr, withLr, options.workers);
  const tunedLr = best(lrRows);
  const smallLr = tunedLr / TUNING_GRIDS.smallLrDivisor;
  const penalized = (kind: 'fisher' | 'gradnorm') => (alpha: number) => ({
    ...withLr(smallLr),
    penalty: { kind, alpha },
  });
  const fpRows = await runGrid(
    options.out,
    'fisherAlpha',
    TUNING_GRIDS.fisherAlpha,
    penalized('fisher'),
    options.workers,
  );
  const gnRows = await runGrid(
    options.out,
    'gradNormAlpha',
    TUNING_GRIDS.gradNormAlpha,
    penalized('gradnorm'),
    options.workers,
  );
  const tuning: DemoTuning = {
    measured: {
      date: new Date().toISOString().slice(0, 10),
      backend: 'auto',
      machine: `${os.availableParallelism()} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
      settings: `full demo scale (${scale.trainSubset} train / ${scale.testSubset} test, ${scale.epochs} epochs), seed ${options.seed}; criterion: best final test accuracy; small lr = tuned / ${TUNING_GRIDS.smallLrDivisor}`,
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
