import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { composeReport, meanSpread, type RunSummary, readRuns } from '@fisherlab/analysis';
import { writeFileAtomic } from '@fisherlab/storage';
import { createPoolDisplay, type PlannedRun, runId, runLocalPool, writePlan } from '@fisherlab/sweeps';
import { UserError } from '../errors.js';
import { DEMO_SCALES, type DemoTuning, type GridRow, protocolConfig, TUNING_FILE } from './plan.js';

/** The grids `fisherlab demo --tune` searches, on the demo's own protocol and budgets. */
export const TUNING_GRIDS = {
  lr: [0.01, 0.03, 0.1],
  /** The small learning rate is the tuned one divided by this (the paper: 10-30x smaller). */
  smallLrDivisor: 10,
  fisherAlpha: [0.003, 0.01, 0.03, 0.1],
  /**
   * Seeds of the grids: apart from the demo's own (0, 1, 2, ...), so the values are not chosen on the
   * runs the findings are then read from. The α grid, 5x costlier per point, runs on one.
   */
  lrSeeds: [100, 101],
  alphaSeeds: [100],
} as const;

interface GridPoint {
  /** Name of the run, e.g. 'fisherAlpha=0.1 seed=0'. */
  name: string;
  key: string;
  value: number;
  seed: number;
  config: ReturnType<typeof protocolConfig>;
}

/** Runs one grid as a sweep (resumable, isolated workers); one row per value, averaged over seeds. */
async function runGrid(dir: string, stage: string, points: GridPoint[], workers: number): Promise<GridRow[]> {
  const stageDir = path.join(dir, stage);
  const runs: PlannedRun[] = points.map((point, index) => {
    const id = `${point.key}-${point.value}-s${point.seed}`;
    return {
      index,
      id,
      name: point.name,
      values: { [point.key]: point.value, seed: point.seed, hash: runId(point.config) },
      config: { ...point.config, name: point.name, output: `runs/${id}` },
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
  const scale = DEMO_SCALES.full;
  const { summary } = composeReport(await readRuns(path.join(stageDir, 'runs')), {
    tailEvaluations: scale.tailEvaluations,
  });
  const byId = new Map(summary.map((s: RunSummary) => [s.runId, s]));
  const values = [...new Set(points.map((p) => p.value))];
  return values.map((value) => {
    const done = runs
      .filter((r) => r.values[points[0]!.key] === value)
      .map((r) => byId.get(r.id))
      .filter((s): s is RunSummary => s?.status === 'completed' && s.tailTestAccuracy !== null);
    const avg = (pick: (s: RunSummary) => number | null) => {
      const v = done.map(pick).filter((x): x is number => x !== null);
      return v.length > 0 ? meanSpread(v).mean : Number.NaN;
    };
    return {
      value,
      seeds: done.length,
      tailTestAccuracy: avg((s) => s.tailTestAccuracy),
      tailTrainAccuracy: avg((s) => s.tailTrainAccuracy),
      maxTraceF: avg((s) => s.maxTraceF),
    };
  });
}

const best = (rows: GridRow[]): number => {
  const finished = rows.filter((r) => Number.isFinite(r.tailTestAccuracy));
  if (finished.length === 0)
    throw new UserError('every run of a tuning grid failed or diverged; see the run logs');
  return finished.reduce((a, b) => (b.tailTestAccuracy > a.tailTestAccuracy ? b : a)).value;
};

/**
 * Chooses the demo's learning rate and penalty strength on the demo's protocol (same data, budgets,
 * schedule and evaluation), by best mean test accuracy over the grid's seeds, and records the
 * grids with the choice in demo/tuning.json.
 */
export async function tuneDemo(options: { out: string; workers: number }): Promise<DemoTuning> {
  const scale = DEMO_SCALES.full;
  const point = (key: string, value: number, seed: number, config: GridPoint['config']): GridPoint => ({
    name: `${key}=${value} seed=${seed}`,
    key,
    value,
    seed,
    config,
  });
  const lrRows = await runGrid(
    options.out,
    'lr',
    TUNING_GRIDS.lr.flatMap((lr) =>
      TUNING_GRIDS.lrSeeds.map((seed) =>
        point(
          'lr',
          lr,
          seed,
          protocolConfig({ scale, lr, epochs: scale.tunedEpochs, referenceLr: lr, seed, name: 'x' }),
        ),
      ),
    ),
    options.workers,
  );
  const tunedLr = best(lrRows);
  const smallLr = tunedLr / TUNING_GRIDS.smallLrDivisor;
  const alphaRows = await runGrid(
    options.out,
    'alpha',
    TUNING_GRIDS.fisherAlpha.flatMap((alpha) =>
      TUNING_GRIDS.alphaSeeds.map((seed) =>
        point(
          'fisherAlpha',
          alpha,
          seed,
          protocolConfig({
            scale,
            lr: smallLr,
            epochs: scale.smallEpochs,
            referenceLr: tunedLr,
            seed,
            name: 'x',
            penalty: { kind: 'fisher', alpha },
          }),
        ),
      ),
    ),
    options.workers,
  );
  const tuning: DemoTuning = {
    measured: {
      date: new Date().toISOString().slice(0, 10),
      backend: 'auto',
      machine: `${os.availableParallelism()} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
      settings:
        `the demo's protocol (${scale.trainSubset} train / ${scale.testSubset} test images, cosine decay, accuracy = mean of the last ${scale.tailEvaluations} evaluations), seeds apart from the demo's; ` +
        `lr ∈ {${TUNING_GRIDS.lr.join(', ')}} at ${scale.tunedEpochs} epochs (seeds ${TUNING_GRIDS.lrSeeds.join(', ')}); small lr = tuned / ${TUNING_GRIDS.smallLrDivisor}; ` +
        `FP α ∈ {${TUNING_GRIDS.fisherAlpha.join(', ')}} at the small lr for ${scale.smallEpochs} epochs (seed ${TUNING_GRIDS.alphaSeeds.join(', ')}); criterion: best mean test accuracy`,
    },
    tunedLr,
    smallLrDivisor: TUNING_GRIDS.smallLrDivisor,
    smallLr,
    fisherAlpha: best(alphaRows),
    grids: { lr: lrRows, fisherAlpha: alphaRows },
  };
  writeFileAtomic(fileURLToPath(TUNING_FILE), `${JSON.stringify(tuning, null, 2)}\n`);
  return tuning;
}
