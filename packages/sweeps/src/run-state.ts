import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import path from 'node:path';
import {
  DEFAULT_STALE_AFTER_MS,
  type LockHolder,
  lockLiveness,
  type RunMeta,
  readLock,
  runLockFile,
} from '@fisherlab/storage';
import { SweepError } from './errors.js';

/**
 * What the records in one run directory say about the run. `run.lock` names the process writing
 * it (host, pid, heartbeat): with it a meta.json that still says 'running' can be told apart from
 * one whose process was killed, which reads as interrupted.
 */

export { DEFAULT_STALE_AFTER_MS };

/**
 * Refuses a threshold that would make every live worker look gone (zero, negative, not a number):
 * with one, a worker would take over a run another host is still writing.
 */
export function checkStaleAfter(staleAfterMs: number | undefined): number {
  const value = staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
  if (!(Number.isFinite(value) && value > 0)) {
    throw new SweepError(
      `stale-after must be a positive duration, got ${staleAfterMs} ms: a worker is presumed gone only after that long without a heartbeat`,
    );
  }
  return value;
}

export type SweepRunState =
  | 'pending'
  | 'running'
  | 'interrupted'
  | 'failed'
  | 'diverged'
  | 'completed'
  | 'damaged';

export interface RunRecordState {
  state: SweepRunState;
  /** Last step completed: the last logged record's, or meta.json's where that is later. */
  step?: number;
  /** Why the state is what it is, where that is not obvious (the error, who holds it, why it stopped). */
  detail?: string;
  /** The process holding the run's lock, if any (alive or not). */
  holder?: LockHolder;
  /** For state 'damaged': the record that cannot be read (its path) and why. */
  damaged?: { file: string; reason: string };
}

type RecordRead<T> = { found: false } | { found: true; value: T } | { found: true; damaged: string };

const RUN_STATUSES = ['running', 'completed', 'diverged', 'failed', 'interrupted'];

/** A JSON record of a run: missing, read, or there but unreadable or garbled (and why). */
function readRecord<T>(file: string, check: (value: unknown) => string | undefined): RecordRead<T> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { found: false };
    return { found: true, damaged: `unreadable (${code ?? (error as Error).message})` };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { found: true, damaged: `not valid JSON (${(error as Error).message})` };
  }
  const problem =
    value === null || typeof value !== 'object' || Array.isArray(value) ? 'not a JSON object' : check(value);
  return problem ? { found: true, damaged: problem } : { found: true, value: value as T };
}

const checkMeta = (value: unknown): string | undefined => {
  const status = (value as { status?: unknown }).status;
  return RUN_STATUSES.includes(status as string)
    ? undefined
    : `its status ${JSON.stringify(status)} is not one of ${RUN_STATUSES.join(', ')}`;
};

const readMetaRecord = (runDir: string) => readRecord<RunMeta>(path.join(runDir, 'meta.json'), checkMeta);

/** meta.json, where it is there and readable. */
export function readMeta(runDir: string): RunMeta | undefined {
  const record = readMetaRecord(runDir);
  return record.found && 'value' in record ? record.value : undefined;
}

/** The first of meta.json and config.json that is there but cannot be read, and why. */
export function damagedRecord(runDir: string): { file: string; reason: string } | undefined {
  const records = [
    ['meta.json', readMetaRecord(runDir)],
    ['config.json', readRecord(path.join(runDir, 'config.json'), () => undefined)],
  ] as const;
  for (const [name, record] of records) {
    if (record.found && 'damaged' in record) return { file: path.join(runDir, name), reason: record.damaged };
  }
  return undefined;
}

/** The step of the last complete line of metrics.jsonl (read from its end), if any. */
export function lastLoggedStep(runDir: string): number | undefined {
  const file = path.join(runDir, 'metrics.jsonl');
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return undefined;
  }
  try {
    const size = statSync(file).size;
    const length = Math.min(size, 16_384);
    const tail = Buffer.alloc(length);
    readSync(fd, tail, 0, length, size - length);
    const lines = tail.toString('utf8').split('\n');
    lines.pop(); // partial (or empty) after the last newline
    for (const line of lines.reverse()) {
      try {
        const step = (JSON.parse(line) as { step?: unknown }).step;
        if (typeof step === 'number') return step;
      } catch {
        // the first line of the tail may be cut: look further back
      }
    }
    return undefined;
  } finally {
    closeSync(fd);
  }
}

export function readRunState(
  runDir: string,
  now = Date.now(),
  staleAfterMs = DEFAULT_STALE_AFTER_MS,
): RunRecordState {
  const meta = readMeta(runDir);
  const holder = readLock(runLockFile(runDir));
  const liveness = holder ? lockLiveness(holder, now, staleAfterMs) : undefined;
  const logged = lastLoggedStep(runDir);
  const steps = [meta?.step, logged].filter((s): s is number => s !== undefined);
  const base = { ...(steps.length ? { step: Math.max(...steps) } : {}), ...(holder ? { holder } : {}) };
  if (liveness?.alive) return { state: 'running', ...base, detail: `${holder!.purpose}: ${liveness.reason}` };
  const damaged = damagedRecord(runDir);
  if (damaged) {
    return {
      state: 'damaged',
      ...base,
      damaged,
      detail: `${damaged.file} is ${damaged.reason}: restore it (from a backup, or by hand), or remove the run directory to run it again`,
    };
  }
  if (meta && (meta.status === 'completed' || meta.status === 'diverged')) {
    const error = meta.error
      ? `${meta.error.message}${meta.error.step !== undefined ? ` (step ${meta.error.step})` : ''}`
      : undefined;
    return { state: meta.status, ...base, ...(error ? { detail: error } : {}) };
  }
  if (meta && meta.status !== 'running') {
    const error = meta.error
      ? `${meta.error.message}${meta.error.step !== undefined ? ` (step ${meta.error.step})` : ''}`
      : undefined;
    return { state: meta.status, ...base, ...(error ? { detail: error } : {}) };
  }
  if (meta) {
    return {
      state: 'interrupted',
      ...base,
      detail: `meta.json says running, but ${liveness ? liveness.reason : 'no process holds the run'} (killed?)`,
    };
  }
  if (liveness)
    return { state: 'interrupted', ...base, detail: `started but wrote no records, and ${liveness.reason}` };
  return { state: 'pending' };
}
