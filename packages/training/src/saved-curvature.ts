import { existsSync } from 'node:fs';
import path from 'node:path';
import { firstN, type ImageSplit } from '@fisherlab/datasets';
import { tf } from '@fisherlab/engine';
import {
  broadenDensity,
  type CurvatureBatch,
  fisherDiagonal,
  fisherOperator,
  HessianOperator,
  type LinearOperator,
  spectralDensity,
  topEigenpairs,
} from '@fisherlab/fisher';
import { type CurvatureRecord, runFile } from '@fisherlab/storage';
import { startBackend } from './backend-settings.js';
import { latestCheckpoint } from './checkpoint.js';
import { type PreparedData, prepareData } from './data.js';
import { readMetrics } from './metrics-log.js';
import { checkInputShape, dataFor, loadSavedModel, type SavedModelMeasurement } from './saved-model.js';
import type { RunConfig } from './spec.js';

/**
 * The curvature of a saved model (`fisherlab curvature`): top-k eigenvalues and the spectral
 * density of the Hessian and the Fisher (fisher's operators and Lanczos), and the Fisher's diagonal
 * per layer, as `curvature` records placed at the checkpoint's step.
 */

export const CURVATURE_MEASURES = ['top-eigenvalues', 'density', 'diag-fisher'] as const;
export type CurvatureMeasure = (typeof CURVATURE_MEASURES)[number];
export const CURVATURE_MATRICES = ['hessian', 'fisher'] as const;
export type CurvatureMatrix = (typeof CURVATURE_MATRICES)[number];

export interface SavedCurvatureMeasurement extends SavedModelMeasurement {
  measure: CurvatureMeasure[];
  matrix: CurvatureMatrix[];
  n: number;
  batchSize: number;
  /** Eigenvalues, and Lanczos steps for them. */
  k: number;
  steps: number;
  /** SLQ random starts and steps, and the broadened density's grid points. */
  densityRuns: number;
  densitySteps: number;
  bins: number;
  diag: 'exact' | 'mc';
  seed: number;
}

/** The first `n` examples of the split, re-iterable in batches (each pass normalizes them again). */
function streamOf(data: PreparedData, head: ImageSplit, batchSize: number): Iterable<CurvatureBatch> {
  return {
    *[Symbol.iterator]() {
      for (const batch of data.inOrder(head, batchSize)) {
        const labels = tf.tensor1d(batch.labels, 'int32');
        try {
          yield { x: batch.x, labels };
        } finally {
          tf.dispose([batch.x, labels]);
        }
      }
    },
  };
}

/**
 * Measures a saved model's curvature. For a run directory, `runDir` is returned with the records,
 * which sit at its latest checkpoint's step (RunDirectory's appendMeasurements adds them to it).
 */
export async function curvatureOfSavedModel(
  options: SavedCurvatureMeasurement,
): Promise<{ records: CurvatureRecord[]; runDir?: string }> {
  await startBackend(options.backend);
  const { model, runConfig } = await loadSavedModel(options.checkpoint);
  const runDir = runConfig ? path.resolve(options.checkpoint) : undefined;
  try {
    const data = await curvatureData(options, runConfig);
    checkInputShape(model, data, options);
    const split = options.split === 'train' ? data.train : data.test;
    const head = firstN(split, Math.min(options.n, split.count));
    const stream = streamOf(data, head, options.batchSize);
    const at = runDir
      ? checkpointPosition(runDir, latestCheckpoint(runDir)?.step)
      : { step: 0, epoch: 0, time: 0 };
    const records: CurvatureRecord[] = [];
    for (const matrix of options.matrix) {
      const record: CurvatureRecord = {
        kind: 'curvature',
        ...at,
        matrix,
        examples: head.count,
        split: options.split,
      };
      records.push(await measureMatrix(model, stream, matrix, record, options));
    }
    data.dispose();
    return { records, ...(runDir ? { runDir } : {}) };
  } finally {
    model.dispose();
  }
}

async function measureMatrix(
  model: tf.LayersModel,
  stream: Iterable<CurvatureBatch>,
  matrix: CurvatureMatrix,
  record: CurvatureRecord,
  options: SavedCurvatureMeasurement,
): Promise<CurvatureRecord> {
  const operator: LinearOperator =
    matrix === 'hessian' ? new HessianOperator(model, stream) : fisherOperator(model, stream);
  if (options.measure.includes('top-eigenvalues')) {
    const top = await topEigenpairs(operator, {
      k: options.k,
      maxIterations: options.steps,
      seed: options.seed,
    });
    record.topEigenvalues = top.values;
  }
  if (options.measure.includes('density')) {
    const density = await spectralDensity(operator, {
      runs: options.densityRuns,
      iterations: options.densitySteps,
      seed: options.seed,
    });
    const broadened = broadenDensity(density, { bins: options.bins });
    record.density = {
      grid: broadened.grid,
      values: broadened.values,
      runs: options.densityRuns,
      steps: options.densitySteps,
    };
  }
  if (matrix === 'fisher' && options.measure.includes('diag-fisher')) {
    const diag = await fisherDiagonal(model, stream, { type: options.diag, seed: options.seed });
    record.diagFisher = {
      estimator: options.diag,
      trace: diag.trace,
      traceStdErr: diag.traceStandardError,
      perLayer: Object.fromEntries(
        Object.entries(diag.perLayer).map(([layer, e]) => [
          layer,
          { value: e.value, stdErr: e.standardError },
        ]),
      ),
    };
  }
  return record;
}

/**
 * The data a run's curvature is measured on: the run's own training data (its training subset and
 * label noise, as trained on, without augmentation), since flatness is a property of the loss it
 * minimized; with a dataset named or for a bare model directory, the split as traceOfSavedModel reads it.
 */
async function curvatureData(
  options: SavedCurvatureMeasurement,
  runConfig: RunConfig | undefined,
): Promise<PreparedData> {
  if (!runConfig || options.dataset || options.dataDir) return dataFor(options, runConfig);
  return prepareData({ ...runConfig, dataset: { ...runConfig.dataset, augment: false } });
}

/** Step, epoch and time of the checkpoint measured, from the run's own records at that step. */
function checkpointPosition(
  runDir: string,
  step: number | undefined,
): { step: number; epoch: number; time: number } {
  let best = { step: step ?? 0, epoch: 0, time: 0 };
  const file = runFile(runDir, 'metrics');
  for (const r of existsSync(file) ? readMetrics(file) : []) {
    if (typeof r.step === 'number' && r.step <= best.step && r.step >= 0) {
      best = { step: best.step, epoch: r.epoch, time: r.time };
    }
  }
  return best;
}
