import { existsSync } from 'node:fs';
import path from 'node:path';
import { InputError } from '@fisherlab/core';
import { firstN, type ImageSplit } from '@fisherlab/datasets';
import { tf } from '@fisherlab/engine';
import { estimateFisherTrace, type TraceEstimate, type TraceEstimator } from '@fisherlab/fisher';
import { loadCheckpointModel } from '@fisherlab/models';
import { readVerified } from '@fisherlab/storage';
import { startBackend } from './backend-settings.js';
import { latestCheckpoint } from './checkpoint.js';
import { readConfigFile } from './config-file.js';
import { type PreparedData, prepareData, scoreSplit } from './data.js';
import { TrainingError } from './errors.js';
import { parseRunConfig, type RunConfig } from './spec.js';

/**
 * Measuring a saved model (`fisherlab trace` / `eval`): a run directory's latest checkpoint, or
 * any directory with model.json + weights.bin (a tfjs Layers model with logits), on a dataset.
 */

export interface SavedModelMeasurement {
  /** A run directory, or a directory with model.json + weights.bin. */
  checkpoint: string;
  /** Default: the run's own dataset, else the embedded default. */
  dataset?: string;
  dataDir?: string;
  split: 'train' | 'test';
  /** The first n examples of the split (default: trace 1024, eval all). */
  n?: number;
  backend: RunConfig['backend'];
}

/** The model in `dir` and, for a run directory, the run's config (for its dataset). */
export async function loadSavedModel(
  dir: string,
): Promise<{ model: tf.LayersModel; modelDir: string; runConfig?: RunConfig }> {
  const resolved = path.resolve(dir);
  const notAModel = (found: string) =>
    new InputError({
      where: 'loadSavedModel',
      key: 'checkpoint',
      expected: 'a run directory (its latest checkpoint) or a directory with model.json + weights.bin',
      found: `${dir}, ${found}`,
      fix: 'name a run directory or a saved model directory',
    });
  if (!existsSync(resolved)) throw notAModel('which does not exist');
  let modelDir = resolved;
  let runConfig: RunConfig | undefined;
  if (existsSync(path.join(resolved, 'config.json')) && !existsSync(path.join(resolved, 'model.json'))) {
    const pointer = latestCheckpoint(resolved);
    if (!pointer)
      throw new TrainingError(
        `${dir} is a run directory without a checkpoint yet (it checkpoints at each epoch's end)`,
      );
    modelDir = path.join(resolved, pointer.dir);
    readVerified(modelDir, `restore the file, or measure another run's checkpoint`); // names a damaged file
    const configFile = path.join(resolved, 'config.json');
    runConfig = parseRunConfig(readConfigFile(configFile), configFile);
  }
  if (!existsSync(path.join(modelDir, 'model.json'))) {
    throw notAModel('which holds neither config.json nor model.json');
  }
  try {
    const { model } = await loadCheckpointModel(modelDir);
    return { model, modelDir, ...(runConfig ? { runConfig } : {}) };
  } catch (error) {
    throw new TrainingError(`cannot load the model in ${modelDir}: ${(error as Error).message}`);
  }
}

/** The dataset a measured model is evaluated on: the options, else the run's own config. */
export async function dataFor(
  options: Pick<SavedModelMeasurement, 'dataset' | 'dataDir'>,
  runConfig: RunConfig | undefined,
): Promise<PreparedData> {
  const base = runConfig ?? parseRunConfig({ optimizer: { lr: 1 }, epochs: 1 }, 'defaults');
  const dataset = {
    ...base.dataset,
    noise: null,
    augment: false,
    trainSubset: undefined,
    testSubset: undefined,
  };
  if (options.dataset) dataset.name = options.dataset as RunConfig['dataset']['name'];
  if (options.dataDir) dataset.dir = options.dataDir;
  return prepareData({ ...base, dataset: dataset as RunConfig['dataset'] });
}

/**
 * Refuses a dataset whose images the model cannot take (another size or channel count), naming
 * both shapes and the fix, instead of failing inside tfjs.
 */
export function checkInputShape(
  model: tf.LayersModel,
  data: PreparedData,
  options: Pick<SavedModelMeasurement, 'checkpoint' | 'dataset'>,
): void {
  const expected = model.inputs[0]?.shape.slice(1) ?? [];
  const found = data.inputShape;
  if (expected.length === found.length && expected.every((d, i) => d === null || d === found[i])) return;
  throw new InputError({
    where: 'checkInputShape',
    key: 'dataset',
    expected: `${expected.join('x')} images, what the model in ${options.checkpoint} takes`,
    found: `${options.dataset ?? data.name}, whose images are ${found.join('x')}`,
    fix: "measure the model on the dataset it was trained on (or leave the dataset unset to use the run's own)",
  });
}

async function openMeasurement(options: SavedModelMeasurement) {
  await startBackend(options.backend);
  const { model, runConfig } = await loadSavedModel(options.checkpoint);
  const data = await dataFor(options, runConfig);
  checkInputShape(model, data, options);
  const split: ImageSplit = options.split === 'train' ? data.train : data.test;
  return { model, data, split };
}

/** Tr(F) of a saved model on the first n (default 1024) examples of a split, with its standard error. */
export async function traceOfSavedModel(
  options: SavedModelMeasurement & { estimator: TraceEstimator; seed: number },
): Promise<TraceEstimate> {
  const { model, data, split } = await openMeasurement(options);
  const head = firstN(split, Math.min(options.n ?? 1024, split.count));
  const [batch] = [...data.inOrder(head, head.count)];
  const estimate = estimateFisherTrace(
    model,
    { x: batch!.x, labels: batch!.labels },
    { estimator: options.estimator, seed: options.seed, batchSize: 128 },
  );
  tf.dispose(batch!.x);
  model.dispose();
  return estimate;
}

/** Loss and accuracy of a saved model on the first n (default all) examples of a split. */
export async function evaluateSavedModel(
  options: SavedModelMeasurement,
): Promise<{ split: 'train' | 'test'; examples: number; loss: number; accuracy: number }> {
  const { model, data, split } = await openMeasurement(options);
  const head = firstN(split, Math.min(options.n ?? split.count, split.count));
  const result = scoreSplit(model, data, head);
  model.dispose();
  return { split: options.split, examples: head.count, loss: result.loss, accuracy: result.accuracy };
}
