import { existsSync } from 'node:fs';
import path from 'node:path';
import type { tf } from '@fisherlab/engine';
import { loadCheckpointModel } from '@fisherlab/models';
import { readVerified } from '@fisherlab/storage';
import { latestCheckpoint, parseRunConfig, type RunConfig } from '@fisherlab/training';
import { readConfigFile } from '../config/load.js';
import { UserError } from '../errors.js';

/**
 * A model to measure: either a run directory (its latest checkpoint, and its config for the
 * dataset) or a directory holding model.json + weights.bin (any tfjs Layers model with logits).
 */
export async function loadModelSource(
  dir: string,
): Promise<{ model: tf.LayersModel; modelDir: string; runConfig?: RunConfig }> {
  const resolved = path.resolve(dir);
  if (!existsSync(resolved)) throw new UserError(`--checkpoint ${dir}: no such directory`);
  let modelDir = resolved;
  let runConfig: RunConfig | undefined;
  if (existsSync(path.join(resolved, 'config.json')) && !existsSync(path.join(resolved, 'model.json'))) {
    const pointer = latestCheckpoint(resolved);
    if (!pointer)
      throw new UserError(
        `${dir} is a run directory without a checkpoint yet (it checkpoints at each epoch's end)`,
      );
    modelDir = path.join(resolved, pointer.dir);
    readVerified(modelDir, `restore the file, or measure another run's checkpoint`); // names a damaged file
    runConfig = parseRunConfig(
      readConfigFile(path.join(resolved, 'config.json')),
      path.join(resolved, 'config.json'),
    );
  }
  if (!existsSync(path.join(modelDir, 'model.json'))) {
    throw new UserError(
      `--checkpoint ${dir}: expected a run directory or a directory with model.json + weights.bin`,
    );
  }
  try {
    const { model } = await loadCheckpointModel(modelDir);
    return { model, modelDir, ...(runConfig ? { runConfig } : {}) };
  } catch (error) {
    throw new UserError(`cannot load the model in ${modelDir}: ${(error as Error).message}`);
  }
}
