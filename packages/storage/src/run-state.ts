import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { DEFAULT_STALE_AFTER_MS, type LockHolder, lockLiveness, readLock, runLockFile } from './lock.js';
import type { RunMeta, RunStatus } from './records.js';
import { RUN_FILES, runFile } from './run-files.js';

/**
 * What the files of one run directory say about the run. `run.lock` names the process writing it
 * (host, pid, heartbeat): with it a meta.json that still says 'running' can be told apart from one
 * whose process was killed, which reads as interrupted. A file that is there but cannot be read
 * (garbled JSON, not a run's record) makes the run 'damaged', naming the file: it is neither
 * finished nor waiting to start.
 */

export type RunState =
  | 'pending'
  | 'running'
  | 'interrupted'
  | 'failed'
  | 'diverged'
  | 'completed'
  | 'damaged';

export interface RunStateReport {
  state: RunState;
  /** Last step completed: the last logged record's, or meta.json's where that is later. */
  step?: number;
  /** Why the state is what it is, where that is not obvious (the error, who holds it, why it stopped). */
  detail?: string;
  /** The process holding the run's lock, if any (alive or not). */
  holder?: LockHolder;
  /** For state 'damaged': the file that cannot be read and why. */
  damaged?: { file: string; reason: string };
}

const STATUSES: readonly RunStatus[] = ['running', 'completed', 'diverged', 'failed', 'interrupted'];

/** A JSON file of the run: absent, read, or damaged (there, but not what a writer leaves). */
type JsonRead<T> = { absent: true } | { value: T } | { damaged: string };

function readJsonFile<T>(file: string, check: (value: unknown) => string | undefined): JsonRead<T> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { absent: true };
    return { damaged: `unreadable (${code ?? (error as Error).message})` };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { damaged: `not valid JSON (${(error as Error).message})` };
  }
  const problem = check(value);
  return problem === undefined ? { value: value as T } : { damaged: problem };
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const metaProblem = (value: unknown): string | undefined => {
  if (!isObject(value)) return 'not a JSON object';
  if (!STATUSES.includes(value['status'] as RunStatus))
    return `its status ${JSON.stringify(value['status'])} is not one of ${STATUSES.join(', ')}`;
  return undefined;
};

const configProblem = (value: unknown): string | undefined =>
  isObject(value) ? undefined : 'not a JSON object';

/**
 * meta.json, if it is there and reads as a run's record. A damaged one reads as undefined here:
 * readRunState says why.
 */
export function readRunMeta(runDir: string): RunMeta | undefined {
  const read = readJsonFile<RunMeta>(runFile(runDir, 'meta'), metaProblem);
  return 'value' in read ? read.value : undefined;
}

/** The step of the last complete line of metrics.jsonl (read from its end), if any. */
export function lastLoggedStep(runDir: string): number | undefined {
  const file = runFile(runDir, 'metrics');
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

const errorDetail = (meta: RunMeta): string | undefined =>
  meta.error
    ? `${meta.error.message}${meta.error.step !== undefined ? ` (step ${meta.error.step})` : ''}`
    : undefined;

/**
 * The state of the run in `runDir`: 'pending' (nothing written yet), 'running' (a live process
 * holds its lock), 'interrupted' (stopped, or killed: meta.json says running but no live process
 * holds it), 'failed', 'diverged', 'completed', or 'damaged' (meta.json or config.json is there but
 * cannot be read; `damaged` names the file). Holders on other hosts are judged by their heartbeat,
 * stale after `staleAfterMs`.
 */
export function readRunState(
  runDir: string,
  now = Date.now(),
  staleAfterMs = DEFAULT_STALE_AFTER_MS,
): RunStateReport {
  const metaRead = readJsonFile<RunMeta>(runFile(runDir, 'meta'), metaProblem);
  const configRead = readJsonFile<unknown>(runFile(runDir, 'config'), configProblem);
  const meta = 'value' in metaRead ? metaRead.value : undefined;
  const holder = readLock(runLockFile(runDir));
  const liveness = holder ? lockLiveness(holder, now, staleAfterMs) : undefined;
  const logged = lastLoggedStep(runDir);
  const steps = [meta?.step, logged].filter((s): s is number => typeof s === 'number');
  const base = { ...(steps.length ? { step: Math.max(...steps) } : {}), ...(holder ? { holder } : {}) };
  for (const [name, read] of [
    [RUN_FILES.meta, metaRead],
    [RUN_FILES.config, configRead],
  ] as const) {
    if ('damaged' in read) {
      const file = runFile(runDir, name === RUN_FILES.meta ? 'meta' : 'config');
      return {
        state: 'damaged',
        ...base,
        damaged: { file, reason: read.damaged },
        detail: `${file}: ${read.damaged}; restore it from a backup, or start the run again in another directory`,
      };
    }
  }
  if (meta && (meta.status === 'completed' || meta.status === 'diverged')) {
    const error = errorDetail(meta);
    return { state: meta.status, ...base, ...(error ? { detail: error } : {}) };
  }
  if (liveness?.alive) return { state: 'running', ...base, detail: `${holder!.purpose}: ${liveness.reason}` };
  if (meta && meta.status !== 'running') {
    const error = errorDetail(meta);
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
  if (logged !== undefined)
    return { state: 'interrupted', ...base, detail: 'metrics.jsonl has records but there is no meta.json' };
  return { state: 'pending' };
}
