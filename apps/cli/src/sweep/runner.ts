import { existsSync } from 'node:fs';
import path from 'node:path';
import type { RunMeta } from '@fisherlab/analysis';
import { ATTEMPT_FILES } from '@fisherlab/storage';
import {
  clearFailedAttempt,
  latestCheckpoint,
  lockRun,
  parseRunConfig,
  recordRunFailure,
} from '@fisherlab/training';
import { EXIT, explainError, UserError } from '../errors.js';
import { ensureDirectory } from '../run/files.js';
import { createProgress, type ProgressSink } from '../run/progress.js';
import { trainRun } from '../run/trainer.js';
import { PLAN_FILE, type PlannedRun, readPlan, runDirOf } from './plan.js';
import { readRunState } from './run-state.js';

/**
 * `sweep run DIR --index I`: the unit of work every engine executes. Idempotent: a completed (or
 * diverged) run is skipped, a run with a checkpoint resumes from it, a run that died before its
 * first checkpoint starts over. It writes only inside DIR/runs/<id>/.
 */

export type RunAction = 'skipped' | 'started' | 'resumed' | 'restarted';

export interface SweepRunResult {
  index: number;
  id: string;
  name: string;
  runDir: string;
  action: RunAction;
  status: RunMeta['status'];
  /** 0 for completed, diverged and skipped runs (a divergence is a result to record, not to retry). */
  exitCode: number;
  error?: string;
}

export interface SweepRunOptions {
  /** Take over a run whose worker still looks alive. */
  force?: boolean;
  /** The index came from an engine's variable: claims from other hosts are earlier attempts (see ClaimOptions). */
  assignedByEngine?: boolean;
  staleAfterMs?: number;
  progress?: ProgressSink;
  log?: (message: string) => void;
}

export async function runPlannedRun(
  dir: string,
  index: number,
  options: SweepRunOptions = {},
): Promise<SweepRunResult> {
  const log = options.log ?? ((message: string) => console.error(message));
  const plan = readPlan(dir);
  const run: PlannedRun | undefined = plan.runs[index];
  if (!run) {
    throw new UserError(
      `run index ${index} is out of range: the plan ${dir} has runs 0 to ${plan.runs.length - 1}`,
    );
  }
  const runDir = runDirOf(dir, run);
  const result = (
    action: RunAction,
    status: RunMeta['status'],
    exitCode: number,
    error?: string,
  ): SweepRunResult => ({
    index,
    id: run.id,
    name: run.name,
    runDir,
    action,
    status,
    exitCode,
    ...(error ? { error } : {}),
  });

  const before = readRunState(runDir, Date.now(), options.staleAfterMs);
  if (before.state === 'completed' || before.state === 'diverged') {
    log(`run ${index} (${run.id}, ${run.name}) already ${before.state}; skipped`);
    return result('skipped', before.state, EXIT.ok);
  }
  const config = parseRunConfig(
    { ...run.config, output: runDir },
    `${path.join(dir, PLAN_FILE)} run ${index}`,
  );
  ensureDirectory(runDir);
  // the trainer's own lock, taken here so that clearing a dead attempt's files is covered by it too
  const lock = lockRun(runDir, {
    purpose: `fisherlab sweep run (index ${index})`,
    ...(options.staleAfterMs ? { staleAfterMs: options.staleAfterMs } : {}),
    force: options.force ?? false,
    takeOverOtherHosts: options.assignedByEngine ?? false,
  });
  try {
    const checkpoint = latestCheckpoint(runDir);
    let action: RunAction = 'started';
    if (checkpoint) {
      action = 'resumed';
    } else if (ATTEMPT_FILES.some((f) => existsSync(path.join(runDir, f)))) {
      action = 'restarted';
      clearFailedAttempt(runDir, lock);
    }
    log(
      `run ${index} (${run.id}, ${run.name}): ${action === 'resumed' ? `resuming from step ${checkpoint!.step}` : action === 'restarted' ? 'restarting (the last attempt left no checkpoint)' : 'starting'}`,
    );
    const sink = options.progress ?? createProgress(`#${index}`);
    try {
      const outcome = await trainRun(config, { resume: action === 'resumed', progress: sink, lock });
      const exitCode = outcome.status === 'diverged' ? EXIT.ok : outcome.exitCode;
      return result(action, outcome.status, exitCode, outcome.error?.message);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      recordRunFailure(runDir, { id: run.id, name: run.name, message });
      return result(action, 'failed', explainError(error)?.exitCode ?? EXIT.internal, message);
    }
  } finally {
    lock.release();
  }
}
