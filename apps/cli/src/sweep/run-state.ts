import { closeSync, existsSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RunMeta } from '@fisherlab/analysis';
import { UserError } from '../errors.js';
import { writeJsonAtomic } from '../run/files.js';

/**
 * What the records in one run directory say about the run. `worker.json` is the claim of the
 * worker running it (host, pid, last heartbeat): with it a meta.json that still says 'running' can
 * be told apart from one whose process was killed.
 */

export const WORKER_FILE = 'worker.json';
/** A worker on another host is presumed gone after this long without a heartbeat. */
export const DEFAULT_STALE_AFTER_MS = 10 * 60_000;
const HEARTBEAT_EVERY_MS = 15_000;

export type SweepRunState =
  | 'pending'
  | 'running'
  | 'stale'
  | 'interrupted'
  | 'failed'
  | 'diverged'
  | 'completed';

export interface WorkerClaim {
  host: string;
  pid: number;
  startedAt: string;
  heartbeatAt: string;
}

export interface RunRecordState {
  state: SweepRunState;
  /** Last step completed, from meta.json. */
  step?: number;
  /** Why the state is what it is, where that is not obvious (the error, who holds it, why stale). */
  detail?: string;
  claim?: WorkerClaim;
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

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether the claiming worker is alive: its pid on this host, its heartbeat's age elsewhere. */
export function claimLiveness(
  claim: WorkerClaim,
  now: number,
  staleAfterMs: number,
): { alive: boolean; reason: string } {
  if (claim.host === os.hostname()) {
    return pidAlive(claim.pid)
      ? { alive: true, reason: `pid ${claim.pid} on this host is alive` }
      : { alive: false, reason: `its worker (pid ${claim.pid} on this host) is gone` };
  }
  const age = now - Date.parse(claim.heartbeatAt);
  const minutes = (age / 60_000).toFixed(1);
  return age < staleAfterMs
    ? { alive: true, reason: `host ${claim.host} pid ${claim.pid}, heartbeat ${minutes} min ago` }
    : { alive: false, reason: `no heartbeat from host ${claim.host} (pid ${claim.pid}) for ${minutes} min` };
}

export function readRunState(
  runDir: string,
  now = Date.now(),
  staleAfterMs = DEFAULT_STALE_AFTER_MS,
): RunRecordState {
  const meta = readMeta(runDir);
  const claim = readJson<WorkerClaim>(path.join(runDir, WORKER_FILE));
  const liveness = claim ? claimLiveness(claim, now, staleAfterMs) : undefined;
  const base = { ...(meta?.step !== undefined ? { step: meta.step } : {}), ...(claim ? { claim } : {}) };
  if (meta && meta.status !== 'running') {
    const error = meta.error
      ? `${meta.error.message}${meta.error.step !== undefined ? ` (step ${meta.error.step})` : ''}`
      : undefined;
    return { state: meta.status, ...base, ...(error ? { detail: error } : {}) };
  }
  if (liveness?.alive) return { state: 'running', ...base, detail: liveness.reason };
  if (meta) {
    return {
      state: 'stale',
      ...base,
      detail: liveness
        ? `meta.json says running but ${liveness.reason}`
        : 'meta.json says running but no worker holds the run (killed, or started outside a sweep)',
    };
  }
  if (liveness)
    return { state: 'stale', ...base, detail: `started but wrote no records, and ${liveness.reason}` };
  return { state: 'pending' };
}

export interface Claim {
  /** Refreshes the heartbeat (at most every 15 s however often it is called). */
  beat(): void;
  release(): void;
}

/**
 * Claims a run directory for this process by creating worker.json exclusively. A claim whose worker
 * is gone is taken over; a live one is refused unless `force` (two workers must not train one run).
 */
export interface ClaimOptions {
  staleAfterMs?: number;
  /** Take over any claim, live or not. */
  force?: boolean;
  /**
   * Take over claims made on other hosts: set when an engine assigned the index (Kubernetes and
   * Slurm run one task per index at a time, so another host's claim is an earlier attempt, perhaps
   * killed seconds ago with its heartbeat still fresh). A live pid on this host still refuses.
   */
  takeOverOtherHosts?: boolean;
}

export function claimRun(runDir: string, options: ClaimOptions = {}): Claim {
  const file = path.join(runDir, WORKER_FILE);
  const started = new Date().toISOString();
  const mine: WorkerClaim = {
    host: os.hostname(),
    pid: process.pid,
    startedAt: started,
    heartbeatAt: started,
  };
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      try {
        writeSync(fd, `${JSON.stringify(mine, null, 2)}\n`);
      } finally {
        closeSync(fd);
      }
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
          throw new UserError(
            `${file}: another worker claimed this run at the same moment; let it run (nothing was changed)`,
          );
        }
        throw error;
      }
      const other = readJson<WorkerClaim>(file);
      const liveness = other
        ? claimLiveness(other, Date.now(), options.staleAfterMs ?? DEFAULT_STALE_AFTER_MS)
        : undefined;
      const otherHost = other !== undefined && other.host !== os.hostname();
      if (other && liveness?.alive && !options.force && !(otherHost && options.takeOverOtherHosts)) {
        throw new UserError(
          `${runDir} is being run by another worker (${liveness.reason}, since ${other.startedAt}); let it finish, or pass --force if you know it is gone`,
        );
      }
      rmSync(file, { force: true });
    }
  }
  let lastBeat = Date.now();
  const timer = setInterval(() => write(), HEARTBEAT_EVERY_MS);
  timer.unref();
  const write = () => {
    lastBeat = Date.now();
    const current = readJson<WorkerClaim>(file);
    if (current && (current.pid !== mine.pid || current.host !== mine.host)) return; // taken over with --force
    writeJsonAtomic(file, { ...mine, heartbeatAt: new Date(lastBeat).toISOString() });
  };
  return {
    beat() {
      if (Date.now() - lastBeat >= HEARTBEAT_EVERY_MS) write();
    },
    release() {
      clearInterval(timer);
      const current = readJson<WorkerClaim>(file);
      if (current && current.pid === mine.pid && current.host === mine.host && existsSync(file))
        rmSync(file, { force: true });
    },
  };
}
