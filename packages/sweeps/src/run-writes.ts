import { rmSync } from 'node:fs';
import path from 'node:path';
import { type RunMeta, writeJsonAtomic } from '@fisherlab/storage';
import { ATTEMPT_FILES, type HeldLock } from '@fisherlab/training';
import { readMeta } from './run-state.js';

/**
 * The two writes `sweep run` makes into a run directory, kept here until @fisherlab/training's
 * RunDirectory offers them (`clearFailedAttempt`, `recordRunFailure` there, with these signatures):
 * then the runner imports those and this file goes.
 */

/** Removes the files of an attempt that left no checkpoint; the caller holds the run's lock. */
export function clearFailedAttempt(runDir: string, _lock: HeldLock): void {
  for (const file of ATTEMPT_FILES) rmSync(path.join(runDir, file), { recursive: true, force: true });
}

/** Records a failure the trainer could not record itself (it failed before writing meta.json). */
export function recordRunFailure(runDir: string, run: { id: string; name: string; message: string }): void {
  const meta = readMeta(runDir);
  if (meta?.status === 'failed') return;
  const now = new Date().toISOString();
  writeJsonAtomic(path.join(runDir, 'meta.json'), {
    id: run.id,
    name: run.name,
    backend: 'unknown',
    versions: {},
    startedAt: now,
    ...meta,
    status: 'failed',
    endedAt: now,
    error: { message: run.message, ...(meta?.step !== undefined ? { step: meta.step } : {}) },
  } satisfies RunMeta);
}
