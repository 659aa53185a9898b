import type { RunMeta } from '@fisherlab/storage';
import { WORKER_EXIT } from './errors.js';

/**
 * What became of a run after its worker process ended, from what can be observed then: the exit
 * code or signal, the run's meta.json, who holds its lock now, whether the pool asked it to stop.
 * Pure, so every combination is tested by a table (worker-exit.test.ts).
 */

export type PoolRunStatus = 'completed' | 'diverged' | 'failed' | 'interrupted' | 'skipped';

export interface WorkerExit {
  /** The worker could not be started (the spawn error's message). */
  spawnError?: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The run's meta.json after the worker ended, if readable. */
  meta: Pick<RunMeta, 'status' | 'error'> | undefined;
  /** Set when another live process (not this worker) holds the run's lock: who and why. */
  heldElsewhere: string | undefined;
  /** The pool sent its workers SIGTERM. */
  aborted: boolean;
  /** The worker's last lines of output. */
  tail: string[];
  /** The worker's command line, for a spawn error. */
  command: string[];
}

/** Why a run was not trained here: another pool or worker holds it. */
export const elsewhere = (detail: string | undefined): string =>
  `running elsewhere (${detail ?? 'another process holds it'})`;

export function classifyWorkerExit(exit: WorkerExit): { status: PoolRunStatus; error?: string } {
  const { code, signal, meta } = exit;
  if (exit.spawnError !== undefined) {
    return {
      status: 'failed',
      error: `could not start the worker (${exit.command.join(' ')}): ${exit.spawnError}`,
    };
  }
  if (code === WORKER_EXIT.ok) {
    if (meta?.status === 'diverged') {
      return { status: 'diverged', ...(meta.error ? { error: meta.error.message } : {}) };
    }
    return { status: meta?.status === 'completed' ? 'completed' : 'skipped' };
  }
  // another pool or worker took the run between our check and the worker's lock ...
  if (exit.heldElsewhere !== undefined) return { status: 'skipped', error: elsewhere(exit.heldElsewhere) };
  // ... and finished it before we looked at the lock (this pool only starts unfinished runs)
  if (meta?.status === 'completed' || meta?.status === 'diverged') {
    return { status: 'skipped', error: elsewhere(`it ${meta.status} there`) };
  }
  // a worker stopped by our SIGTERM before it could handle it dies of the signal: still an interruption
  if (
    meta?.status === 'interrupted' ||
    code === WORKER_EXIT.interrupted ||
    (exit.aborted && signal !== null)
  ) {
    return { status: 'interrupted' };
  }
  if (meta?.status === 'failed' && meta.error) return { status: 'failed', error: meta.error.message };
  const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
  return {
    status: 'failed',
    error: `worker ${how}; last output:\n    ${exit.tail.slice(-5).join('\n    ')}`,
  };
}
