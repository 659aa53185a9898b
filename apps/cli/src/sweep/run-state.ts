import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import path from 'node:path';
import type { RunMeta } from '@fisherlab/analysis';
import {
  DEFAULT_STALE_AFTER_MS,
  type LockHolder,
  lockLiveness,
  readLock,
  runLockFile,
} from '@fisherlab/storage';

/**
 * What the records in one run directory say about the run. `run.lock` names the process writing
 * it (host, pid, heartbeat): with it a meta.json that still says 'running' can be told apart from
 * one whose process was killed, which reads as interrupted.
 */

export { DEFAULT_STALE_AFTER_MS };

export type SweepRunState = 'pending' | 'running' | 'interrupted' | 'failed' | 'diverged' | 'completed';

export interface RunRecordState {
  state: SweepRunState;
  /** Last step completed: the last logged record's, or meta.json's where that is later. */
  step?: number;
  /** Why the state is what it is, where that is not obvious (the error, who holds it, why it stopped). */
  detail?: string;
  /** The process holding the run's lock, if any (alive or not). */
  holder?: LockHolder;
}

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

export const readMeta = (runDir: string): RunMeta | undefined =>
  readJson<RunMeta>(path.join(runDir, 'meta.json'));

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
  if (meta && (meta.status === 'completed' || meta.status === 'diverged')) {
    const error = meta.error
      ? `${meta.error.message}${meta.error.step !== undefined ? ` (step ${meta.error.step})` : ''}`
      : undefined;
    return { state: meta.status, ...base, ...(error ? { detail: error } : {}) };
  }
  if (liveness?.alive) return { state: 'running', ...base, detail: `${holder!.purpose}: ${liveness.reason}` };
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
