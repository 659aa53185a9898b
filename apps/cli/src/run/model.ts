import { createHash } from 'node:crypto';
import { deriveSeed } from '@fisherlab/datasets';
import type { tf } from '@fisherlab/engine';
import {
  createModel,
  decayableVariables,
  loadCheckpointModel,
  type ModelSpec,
  saveCheckpointModel,
} from '@fisherlab/models';
import type { RunConfig } from '../config/schema.js';
import { UserError } from '../errors.js';
import type { PreparedData } from './data.js';

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
    seed: deriveSeed(config.seed, 1),
  } as ModelSpec;
  let model: tf.LayersModel;
  try {
    model = createModel(spec);
  } catch (error) {
    throw new UserError(`model: ${(error as Error).message} (config keys model.arch / model.options)`);
  }
  return {
    model,
    decayable: new Set(decayableVariables(model).map((v) => v.name)),
    dispose: () => model.dispose(),
  };
}

/** A fingerprint of the architecture (layer classes and weight shapes), to refuse foreign checkpoints. */
export function modelSignature(model: tf.LayersModel): string {
  const layout = model.weights.map((w) => `${w.shape.join('x')}`).join(',');
  const hash = createHash('sha256').update(layout).digest('hex').slice(0, 12);
  return `${model.name}:${model.weights.length}w:${hash}`;
}

export const saveRunModel = (runModel: RunModel, dir: string): Promise<void> =>
  saveCheckpointModel(dir, runModel.model);

/** Loads saved weights into the run's (already built) model, after checking they fit it. */
export async function loadRunModelWeights(runModel: RunModel, dir: string): Promise<void> {
  const { model: saved } = await loadCheckpointModel(dir);
  try {
    if (modelSignature(saved) !== modelSignature(runModel.model)) {
      throw new UserError(
        `checkpoint ${dir} holds ${modelSignature(saved)}, but this config builds ${modelSignature(runModel.model)}; use the config the checkpoint was made with`,
      );
    }
    runModel.model.setWeights(saved.getWeights());
  } finally {
    saved.dispose();
  }
}
