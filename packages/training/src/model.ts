import { createHash } from 'node:crypto';
import { deriveSeed } from '@fisherlab/datasets';
import type { tf } from '@fisherlab/engine';
import { assertLogitsModel } from '@fisherlab/fisher';
import { createModel, decayableVariables, type ModelSpec } from '@fisherlab/models';
import type { PreparedData } from './data.js';
import { TrainingError } from './errors.js';
import type { RunConfig } from './spec.js';
import { STREAM } from './streams.js';

/** A run's model and the weight sets the optimizer and the penalty need. */
export interface RunModel {
  model: tf.LayersModel;
  /** Names of the weights weight decay applies to (kernels only). */
  decayable: ReadonlySet<string>;
  dispose(): void;
}

export function buildRunModel(
  config: RunConfig,
  data: Pick<PreparedData, 'inputShape' | 'numClasses'>,
): RunModel {
  const spec = {
    ...config.model.options,
    arch: config.model.arch,
    inputShape: data.inputShape,
    numClasses: data.numClasses,
    seed: deriveSeed(config.seed, STREAM.init),
  } as ModelSpec;
  let model: tf.LayersModel;
  try {
    model = createModel(spec);
  } catch (error) {
    throw new TrainingError(`model: ${(error as Error).message} (config keys model.arch / model.options)`);
  }
  return {
    model,
    decayable: new Set(decayableVariables(model).map((v) => v.name)),
    dispose: () => model.dispose(),
  };
}

/** What a caller-built model is given: the data's image shape and class count. */
export interface ModelInputs {
  inputShape: [number, number, number];
  numClasses: number;
}

/** A model the caller built (any LayersModel with logits), with the weight sets training needs. */
export function customRunModel(
  build: (inputs: ModelInputs) => tf.LayersModel,
  data: Pick<PreparedData, 'inputShape' | 'numClasses'>,
): RunModel {
  const model = build({ inputShape: data.inputShape, numClasses: data.numClasses });
  try {
    assertLogitsModel(model, 'train() options.model');
  } catch (error) {
    model.dispose();
    throw new TrainingError((error as Error).message);
  }
  return {
    model,
    decayable: new Set(decayableVariables(model).map((v) => v.name)),
    dispose: () => model.dispose(),
  };
}

/** A fingerprint of the architecture (layer classes and weight shapes), to refuse foreign checkpoints. */
export function modelSignature(model: tf.LayersModel): string {
  // Not the model's name: tfjs numbers unnamed models per process (sequential_1, sequential_2, ...).
  const layers = model.layers.map((l) => l.getClassName()).join(',');
  const weights = model.weights.map((w) => `${w.shape.join('x')}`).join(',');
  const hash = createHash('sha256').update(`${layers};${weights}`).digest('hex').slice(0, 12);
  return `${model.layers.length}l:${model.weights.length}w:${hash}`;
}

/** Copies a checkpoint's weights into the run's (already built) model, after checking they fit it. */
export function copyCheckpointWeights(runModel: RunModel, saved: tf.LayersModel, dir: string): void {
  if (modelSignature(saved) !== modelSignature(runModel.model)) {
    throw new TrainingError(
      `checkpoint ${dir} was made by another architecture (${modelSignature(saved)}) than this config builds (${modelSignature(runModel.model)}); resume with the config it was made with, or train into another output directory`,
    );
  }
  runModel.model.setWeights(saved.getWeights());
}
