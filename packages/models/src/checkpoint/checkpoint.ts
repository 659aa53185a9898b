import { join } from 'node:path';
import { tf } from '@fisherlab/engine';
import { fileSystemIOHandler, readChecked, readModelJson } from './fs-handler.js';
import {
  decodeOptimizerSnapshot,
  decodeOptimizerState,
  encodeOptimizerSnapshot,
  encodeOptimizerState,
  OPTIMIZER_BIN,
  OPTIMIZER_JSON,
  type OptimizerSnapshot,
  type OptimizerSnapshotValues,
  type OptimizerStateJson,
} from './optimizer-state.js';

export interface SaveCheckpointOptions {
  /**
   * Saved beside the model (optimizer.json + optimizer.bin) so training resumes exactly: a tfjs
   * optimizer, or any optimizer's state as named slots.
   */
  optimizer?: tf.Optimizer | OptimizerSnapshot;
}

export interface LoadedCheckpoint {
  model: tf.LayersModel;
  /** The tfjs optimizer, rebuilt; present when the checkpoint holds the state of one tfjs knows. */
  optimizer?: tf.Optimizer;
  /** The saved optimizer state as values, whatever optimizer wrote it; present when there is one. */
  optimizerState?: OptimizerSnapshotValues;
}

const isTfOptimizer = (o: tf.Optimizer | OptimizerSnapshot): o is tf.Optimizer =>
  typeof (o as tf.Optimizer).getWeights === 'function';

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
    const { json, bin } = isTfOptimizer(options.optimizer)
      ? await encodeOptimizerState(options.optimizer, model)
      : await encodeOptimizerSnapshot(options.optimizer);
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
  const optimizerState = decodeOptimizerSnapshot(json, bin, jsonPath);
  const knownToTfjs = json.className in tf.serialization.SerializationMap.getMap().classNameMap;
  if (!knownToTfjs) return { model, optimizerState };
  const optimizer = await decodeOptimizerState(json, bin, model, jsonPath);
  return { model, optimizer, optimizerState };
}
