import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { tf } from '@fisherlab/engine';
import {
  loadCheckpointModel,
  type OptimizerSnapshot,
  type OptimizerSnapshotValues,
  saveCheckpointModel,
} from '@fisherlab/models';
import {
  ensureDirectory,
  MANIFEST_FILE,
  readVerified,
  writeJsonAtomic,
  writeManifest,
} from '@fisherlab/storage';
import { TrainingError } from './errors.js';

/**
 * Checkpoints live in `<run>/checkpoints/step-<N>/` and `<run>/checkpoint.json` names the latest
 * complete one. A checkpoint is @fisherlab/models' checkpoint (model.json, weights.bin,
 * optimizer.json, optimizer.bin: loadable with loadCheckpointModel) plus state.json. A checkpoint directory is written in full (each file atomically, then manifest.json
 * with every file's length and SHA-256) before the pointer moves to it, and older ones are removed
 * only after that: a kill at any moment leaves the previous checkpoint valid and pointed to, and a
 * file damaged later is named when the run resumes instead of loading as other numbers.
 */

/** Everything besides the weights that a resumed run needs to continue exactly. */
export interface TrainerState {
  /** Steps completed. */
  step: number;
  /** metrics.jsonl length when the checkpoint was taken (a resume cuts the file back to it). */
  metricsBytes: number;
  /** SHA-256 of those first metricsBytes bytes (a resume refuses a log that differs). */
  metricsSha256?: string;
  /** Running sums of the training-log window not yet written. */
  window: { loss: number; accuracy: number; penalty: number; penalized: number; count: number };
  /** Seconds of training before this checkpoint (so `time` keeps counting across resumes). */
  elapsed: number;
  /** Architecture fingerprint, checked on load (a checkpoint from another model is refused). */
  modelSignature: string;
}

export interface CheckpointPointer {
  dir: string;
  step: number;
}

const POINTER = 'checkpoint.json';

export function latestCheckpoint(runDir: string): CheckpointPointer | undefined {
  const file = path.join(runDir, POINTER);
  if (!existsSync(file)) return undefined;
  try {
    const pointer = JSON.parse(readFileSync(file, 'utf8')) as CheckpointPointer;
    if (typeof pointer?.dir !== 'string' || typeof pointer.step !== 'number')
      throw new Error('expected {"dir": ..., "step": ...}');
    if (!existsSync(path.join(runDir, pointer.dir, MANIFEST_FILE))) {
      throw new Error(`it names ${pointer.dir}, which has no ${MANIFEST_FILE} (incomplete or damaged)`);
    }
    return pointer;
  } catch (error) {
    throw new TrainingError(
      `checkpoint pointer ${file} is unreadable (${(error as Error).message}); the run cannot resume from it: start it again with another --output (or delete ${runDir} to reuse the name)`,
    );
  }
}

export interface CheckpointPayload {
  state: TrainerState;
  model: tf.LayersModel;
  optimizer: OptimizerSnapshot;
}

export async function writeCheckpoint(
  runDir: string,
  payload: CheckpointPayload,
): Promise<CheckpointPointer> {
  const relative = path.join('checkpoints', `step-${String(payload.state.step).padStart(8, '0')}`);
  const dir = path.join(runDir, relative);
  rmSync(dir, { recursive: true, force: true });
  ensureDirectory(dir);
  await saveCheckpointModel(dir, payload.model, { optimizer: payload.optimizer });
  writeJsonAtomic(path.join(dir, 'state.json'), payload.state);
  writeManifest(
    dir,
    readdirSync(dir)
      .filter((name) => name !== MANIFEST_FILE && !name.startsWith('.'))
      .sort(),
  );
  const pointer = { dir: relative, step: payload.state.step };
  writeJsonAtomic(path.join(runDir, POINTER), pointer);
  for (const old of readdirSync(path.join(runDir, 'checkpoints'))) {
    if (path.join('checkpoints', old) !== relative)
      rmSync(path.join(runDir, 'checkpoints', old), { recursive: true, force: true });
  }
  return pointer;
}

/** What to do about a checkpoint that fails its check. */
const damagedCheckpointFix = (runDir: string) =>
  `the checkpoint cannot be trusted, so the run cannot resume from it; restore the file from a backup, or start the run again with another --output (or delete ${runDir} to reuse the name)`;

export interface LoadedRunCheckpoint {
  dir: string;
  state: TrainerState;
  /** The saved model (the caller copies its weights and disposes it). */
  model: tf.LayersModel;
  optimizer: OptimizerSnapshotValues;
}

/**
 * Reads the checkpoint the pointer names, after checking every file against its manifest (a
 * damaged or missing file throws an IntegrityError naming it).
 */
export async function readCheckpoint(
  runDir: string,
  pointer: CheckpointPointer,
): Promise<LoadedRunCheckpoint> {
  const dir = path.join(runDir, pointer.dir);
  const files = readVerified(dir, damagedCheckpointFix(runDir));
  const stateBytes = files.get('state.json');
  if (!stateBytes)
    throw new TrainingError(
      `${path.join(dir, MANIFEST_FILE)} does not list state.json; ${damagedCheckpointFix(runDir)}`,
    );
  const state = JSON.parse(stateBytes.toString('utf8')) as TrainerState;
  const loaded = await loadCheckpointModel(dir);
  if (!loaded.optimizer && !loaded.optimizerState) {
    loaded.model.dispose();
    throw new TrainingError(
      `${dir} holds no optimizer state in the checkpoint format this version reads (model.json does not list optimizer.json); ` +
        'finish the run with the FisherLab version that started it, or start it again with another --output',
    );
  }
  loaded.optimizer?.dispose();
  return { dir, state, model: loaded.model, optimizer: loaded.optimizerState! };
}
