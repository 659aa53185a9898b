import { join } from 'node:path';
import { tf } from '@fisherlab/engine';
import { fileSystemIOHandler, readChecked, readModelJson } from './fs-handler.js';
import {
  decodeOptimizerState,
  encodeOptimizerState,
  OPTIMIZER_BIN,
  OPTIMIZER_JSON,
  type OptimizerStateJson,
} from './optimizer-state.js';

export interface SaveCheckpointOptions {
  /** Saved beside the model (optimizer.json + optimizer.bin) so training resumes exactly. */
  optimizer?: tf.Optimizer;
}

export interface LoadedCheckpoint {
  model: tf.LayersModel;
  /** Present when the checkpoint holds optimizer state. */
  optimizer?: tf.Optimizer;
}

/**
 * Saves `model` to directory `dir` as model.json + weights.bin (readable by any tfjs loader), plus
 * the optimizer state when given. Each file is written atomically and model.json last, with the
 * hashes of the others, so a crash mid-save is detected at load instead of mixing two steps.
 */
export async function saveCheckpointModel(
  dir: string,
  model: tf.LayersModel,
  options: SaveCheckpointOptions = {},
): Promise<void> {
  const sidecars: Record<string, Uint8Array> = {};
  if (options.optimizer) {
    const { json, bin } = await encodeOptimizerState(options.optimizer, model);
    sidecars[OPTIMIZER_BIN] = bin;
    sidecars[OPTIMIZER_JSON] = new TextEncoder().encode(JSON.stringify(json));
  }
  await model.save(fileSystemIOHandler(dir, sidecars));
}

/** Loads a directory written by saveCheckpointModel, or any tfjs Layers model.json + weights. */
export async function loadCheckpointModel(dir: string): Promise<LoadedCheckpoint> {
  const modelJson = await readModelJson(dir);
  const model = await tf.loadLayersModel(fileSystemIOHandler(dir));
  const integrity = modelJson.fisherlab;
  if (!integrity?.sha256[OPTIMIZER_JSON]) return { model };
  const jsonPath = join(dir, OPTIMIZER_JSON);
  const jsonBytes = await readChecked(dir, OPTIMIZER_JSON, integrity);
  const bin = await readChecked(dir, OPTIMIZER_BIN, integrity);
  let json: OptimizerStateJson;
  try {
    json = JSON.parse(new TextDecoder().decode(jsonBytes)) as OptimizerStateJson;
  } catch (error) {
    throw new Error(`${jsonPath}: not valid JSON (${(error as Error).message}); save the checkpoint again`);
  }
  const optimizer = await decodeOptimizerState(json, bin, model, jsonPath);
  return { model, optimizer };
}
