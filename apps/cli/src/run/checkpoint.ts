import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { MANIFEST_FILE, readVerified, writeManifest } from '@fisherlab/storage';
import { UserError } from '../errors.js';
import { ensureDirectory, writeFileAtomic, writeJsonAtomic } from './files.js';
import type { OptimizerState } from './optimizer.js';

/**
 * Checkpoints live in `<run>/checkpoints/step-<N>/` and `<run>/checkpoint.json` names the latest
 * complete one. A checkpoint directory is written in full (each file atomically, then manifest.json
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
    throw new UserError(
      `checkpoint pointer ${file} is unreadable (${(error as Error).message}); the run cannot resume from it: start it again with another --output (or delete ${runDir} to reuse the name)`,
    );
  }
}

export interface CheckpointPayload {
  state: TrainerState;
  optimizer: OptimizerState;
  /** Writes the model's files (model.json, weights.bin) into the given directory. */
  saveModel: (dir: string) => Promise<void>;
}

export async function writeCheckpoint(
  runDir: string,
  payload: CheckpointPayload,
): Promise<CheckpointPointer> {
  const relative = path.join('checkpoints', `step-${String(payload.state.step).padStart(8, '0')}`);
  const dir = path.join(runDir, relative);
  rmSync(dir, { recursive: true, force: true });
  ensureDirectory(dir);
  await payload.saveModel(dir);
  const { slots, step } = payload.optimizer;
  const index: Record<string, { shape: number[]; offset: number; length: number }> = {};
  let total = 0;
  for (const [key, slot] of Object.entries(slots)) {
    index[key] = { shape: slot.shape, offset: total, length: slot.values.length };
    total += slot.values.length;
  }
  const buffer = new Float32Array(total);
  for (const [key, slot] of Object.entries(slots)) buffer.set(slot.values, index[key]!.offset);
  writeFileAtomic(path.join(dir, 'optimizer.bin'), new Uint8Array(buffer.buffer));
  writeJsonAtomic(path.join(dir, 'optimizer.json'), { step, slots: index });
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

/**
 * Reads the checkpoint the pointer names, after checking every file against its manifest (a
 * damaged or missing file throws an IntegrityError naming it).
 */
export function readCheckpoint(
  runDir: string,
  pointer: CheckpointPointer,
): { state: TrainerState; optimizer: OptimizerState; dir: string } {
  const dir = path.join(runDir, pointer.dir);
  const files = readVerified(dir, damagedCheckpointFix(runDir));
  const json = <T>(name: string): T => {
    const bytes = files.get(name);
    if (!bytes)
      throw new UserError(
        `${path.join(dir, MANIFEST_FILE)} does not list ${name}; ${damagedCheckpointFix(runDir)}`,
      );
    return JSON.parse(bytes.toString('utf8')) as T;
  };
  const state = json<TrainerState>('state.json');
  const meta = json<{
    step: number;
    slots: Record<string, { shape: number[]; offset: number; length: number }>;
  }>('optimizer.json');
  const bytes = files.get('optimizer.bin');
  if (!bytes)
    throw new UserError(
      `${path.join(dir, MANIFEST_FILE)} does not list optimizer.bin; ${damagedCheckpointFix(runDir)}`,
    );
  const all = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const slots: OptimizerState['slots'] = {};
  for (const [key, { shape, offset, length }] of Object.entries(meta.slots)) {
    slots[key] = { shape, values: all.slice(offset, offset + length) };
  }
  return { state, optimizer: { step: meta.step, slots }, dir };
}
