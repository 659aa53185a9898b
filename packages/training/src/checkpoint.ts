import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
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
  IntegrityError,
  MANIFEST_FILE,
  RUN_FILES,
  readVerified,
  runFile,
  writeJsonAtomic,
  writeManifest,
} from '@fisherlab/storage';
import { CheckpointError } from './errors.js';

/**
 * Checkpoints live in `<run>/checkpoints/step-<N>/` (`step-<N>-<k>/` when a directory of that step
 * is already there) and `<run>/checkpoint.json` names the latest one. A checkpoint is
 * @fisherlab/models' checkpoint (model.json, weights.bin, optimizer.json, optimizer.bin: loadable
 * with loadCheckpointModel) plus state.json and a manifest.json with every file's length and
 * SHA-256, written last.
 *
 * A checkpoint is never removed while the pointer names it: a new one is written whole in a hidden
 * temporary directory, renamed into place beside the old ones, the pointer is moved to it, and only
 * then are the others removed. A kill at any moment leaves a pointed-to checkpoint that verifies, or
 * (between the rename and the pointer) two that verify. The pointer is a cache: when it is missing,
 * unreadable or names a directory without a manifest, the newest checkpoint whose manifest verifies
 * is used instead.
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
  /** The checkpoint's directory, relative to the run directory. */
  dir: string;
  step: number;
}

/** The checkpoint a resume continues from, and why it is not the pointer's, when it is not. */
export interface FoundCheckpoint extends CheckpointPointer {
  /** Set when checkpoint.json could not be used and the checkpoints were searched instead. */
  recovered?: string;
}

const CHECKPOINT_NAME = /^step-(\d+)(?:-(\d+))?$/;

/** What is wrong with checkpoint.json, or the pointer it holds. */
function readPointer(runDir: string): { pointer: CheckpointPointer } | { problem: string } {
  const file = runFile(runDir, 'checkpointPointer');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return { problem: code === 'ENOENT' ? `${file} is missing` : `${file} is unreadable (${code})` };
  }
  let pointer: CheckpointPointer;
  try {
    pointer = JSON.parse(text) as CheckpointPointer;
  } catch (error) {
    return { problem: `${file} is not valid JSON (${(error as Error).message})` };
  }
  if (typeof pointer?.dir !== 'string' || typeof pointer.step !== 'number')
    return { problem: `${file} is not a checkpoint pointer (expected {"dir": ..., "step": ...})` };
  if (!existsSync(path.join(runDir, pointer.dir, MANIFEST_FILE)))
    return { problem: `${file} names ${pointer.dir}, which has no ${MANIFEST_FILE} (incomplete or removed)` };
  return { pointer };
}

/** The checkpoint directories under checkpoints/, newest first (by step, then by rewrite). */
function checkpointDirs(runDir: string): { dir: string; step: number }[] {
  let names: string[];
  try {
    names = readdirSync(runFile(runDir, 'checkpoints'));
  } catch {
    return [];
  }
  return names
    .map((name) => ({ name, match: CHECKPOINT_NAME.exec(name) }))
    .filter((e): e is { name: string; match: RegExpExecArray } => e.match !== null)
    .map((e) => ({
      dir: path.join(RUN_FILES.checkpoints, e.name),
      step: Number(e.match[1]),
      rewrite: Number(e.match[2] ?? 0),
    }))
    .sort((a, b) => b.step - a.step || b.rewrite - a.rewrite)
    .map(({ dir, step }) => ({ dir, step }));
}

/**
 * The checkpoint to resume from: the one checkpoint.json names, or, when the pointer is missing or
 * damaged, the newest checkpoint whose files all match its manifest (`recovered` says why). Only
 * the chosen one is verified file by file when it is read (readCheckpoint).
 */
export function latestCheckpoint(runDir: string): FoundCheckpoint | undefined {
  const read = readPointer(runDir);
  if ('pointer' in read) return read.pointer;
  const candidates = checkpointDirs(runDir);
  if (candidates.length === 0) return undefined;
  const skipped: string[] = [];
  for (const candidate of candidates) {
    try {
      readVerified(path.join(runDir, candidate.dir), 'skipped');
      const recovered =
        `${read.problem}; continuing from the newest checkpoint that verifies, ${candidate.dir}` +
        (skipped.length ? ` (${skipped.join('; ')})` : '');
      return { ...candidate, recovered };
    } catch (error) {
      if (!(error instanceof IntegrityError)) throw error;
      skipped.push(`${candidate.dir} does not verify: ${error.file} ${error.found}`);
    }
  }
  return undefined;
}

/** Why no checkpoint can be resumed from, for an error message: the pointer's problem and each skipped directory. */
export function missingCheckpointReason(runDir: string): string {
  const read = readPointer(runDir);
  const dirs = checkpointDirs(runDir);
  const pointer = 'problem' in read ? read.problem : `${runFile(runDir, 'checkpointPointer')} is there`;
  return dirs.length === 0
    ? `${pointer}, and ${runFile(runDir, 'checkpoints')} holds no checkpoint`
    : `${pointer}, and none of ${dirs.map((d) => d.dir).join(', ')} verifies against its manifest`;
}

export interface CheckpointPayload {
  state: TrainerState;
  model: tf.LayersModel;
  optimizer: OptimizerSnapshot;
}

/** The points of a checkpoint write, in order (a test stops the write at each). */
export type CheckpointPhase = 'wrote-files' | 'wrote-manifest' | 'renamed' | 'moved-pointer' | 'removed-old';

/** The first free name for a checkpoint of `step` (a rewrite of a step goes beside the first). */
function freeName(runDir: string, step: number): string {
  const base = `step-${String(step).padStart(8, '0')}`;
  for (let k = 1; ; k++) {
    const name = k === 1 ? base : `${base}-${k}`;
    if (!existsSync(path.join(runFile(runDir, 'checkpoints'), name))) return name;
  }
}

/**
 * Writes a checkpoint beside the others, moves the pointer to it, then removes the others (see
 * above). Only RunDirectory calls it, holding the run's lock. `onPhase` runs after each phase.
 */
export async function writeCheckpoint(
  runDir: string,
  payload: CheckpointPayload,
  onPhase: (phase: CheckpointPhase) => void = () => {},
): Promise<CheckpointPointer> {
  const checkpoints = runFile(runDir, 'checkpoints');
  ensureDirectory(checkpoints);
  const name = freeName(runDir, payload.state.step);
  const tmp = path.join(checkpoints, `.${name}.${randomBytes(4).toString('hex')}.tmp`);
  ensureDirectory(tmp);
  try {
    await saveCheckpointModel(tmp, payload.model, { optimizer: payload.optimizer });
    writeJsonAtomic(path.join(tmp, 'state.json'), payload.state);
    onPhase('wrote-files');
    const names = readdirSync(tmp).filter((n) => n !== MANIFEST_FILE && !n.startsWith('.'));
    writeManifest(tmp, names.sort());
    onPhase('wrote-manifest');
    renameSync(tmp, path.join(checkpoints, name));
  } catch (error) {
    rmSync(tmp, { recursive: true, force: true });
    throw error;
  }
  onPhase('renamed');
  const pointer = { dir: path.join(RUN_FILES.checkpoints, name), step: payload.state.step };
  writeJsonAtomic(runFile(runDir, 'checkpointPointer'), pointer);
  onPhase('moved-pointer');
  for (const old of readdirSync(checkpoints)) {
    if (old !== name) rmSync(path.join(checkpoints, old), { recursive: true, force: true });
  }
  onPhase('removed-old');
  return pointer;
}

/** What to do about a checkpoint that fails its check. */
const damagedCheckpointFix = (runDir: string) =>
  `the checkpoint cannot be trusted, so the run cannot resume from it; restore the file from a backup, or train the run again in another output directory (or empty ${runDir} to reuse it)`;

export interface LoadedRunCheckpoint {
  dir: string;
  state: TrainerState;
  /** The saved model (the caller copies its weights and disposes it). */
  model: tf.LayersModel;
  optimizer: OptimizerSnapshotValues;
}

/**
 * Reads a checkpoint after checking every file against its manifest (a damaged or missing file
 * throws an IntegrityError naming it).
 */
export async function readCheckpoint(
  runDir: string,
  pointer: CheckpointPointer,
): Promise<LoadedRunCheckpoint> {
  const dir = path.join(runDir, pointer.dir);
  const files = readVerified(dir, damagedCheckpointFix(runDir));
  const stateBytes = files.get('state.json');
  if (!stateBytes)
    throw new CheckpointError(
      dir,
      `${path.join(dir, MANIFEST_FILE)} does not list state.json; ${damagedCheckpointFix(runDir)}`,
    );
  const state = JSON.parse(stateBytes.toString('utf8')) as TrainerState;
  const loaded = await loadCheckpointModel(dir);
  if (!loaded.optimizer && !loaded.optimizerState) {
    loaded.model.dispose();
    throw new CheckpointError(
      dir,
      `${dir} holds no optimizer state in the checkpoint format this version reads (model.json does not list optimizer.json); ` +
        'finish the run with the FisherLab version that started it, or train it again in another output directory',
    );
  }
  loaded.optimizer?.dispose();
  return { dir, state, model: loaded.model, optimizer: loaded.optimizerState! };
}
