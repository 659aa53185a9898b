import { existsSync } from 'node:fs';
import path from 'node:path';
import { ATTEMPT_FILES, ensureDirectory, type RunMeta } from '@fisherlab/storage';
import {
  clearFailedAttempt,
  latestCheckpoint,
  lockRun,
  type ProgressDisplay,
  parseRunConfig,
  recordRunFailure,
  train,
} from '@fisherlab/training';
import { SweepError } from './errors.js';
import { PLAN_FILE, type PlannedRun, readPlan, runDirOf } from './plan.js';
import { checkStaleAfter, readRunState } from './run-state.js';
import { applyPlanThreads } from './threads.js';

/**
 * `sweep run DIR --index I`: the unit of work every engine executes. Idempotent: a completed (or
 * diverged) run is skipped, a run with a checkpoint resumes from it, a run that died before its
 * first checkpoint starts over, a run with a damaged record is refused. It writes only inside
 * DIR/runs/<id>/, and there only through @fisherlab/training (train, clearFailedAttempt,
 * recordRunFailure).
 */

export type RunAction = 'skipped' | 'started' | 'resumed' | 'restarted';

export interface SweepRunResult {
  index: number;
  id: string;
  name: string;
  runDir: string;
  action: RunAction;
  /** 'interrupted' also where the stop came before training began (nothing was written then). */
  status: RunMeta['status'];
  error?: string;
}

/** Where a worker's progress goes (training's console line, or the pool's JSON lines). */
export type RunProgress = Pick<ProgressDisplay, 'update' | 'log'>;

export interface SweepRunOptions {
  /** Take over a run whose worker still looks alive. */
  force?: boolean;
  /** The index came from an engine's variable: claims from other hosts are earlier attempts (see ClaimOptions). */
  assignedByEngine?: boolean;
  staleAfterMs?: number;
  /** Aborting it stops the run: it checkpoints at the next step and the result is 'interrupted'. */
  signal?: AbortSignal;
  progress?: RunProgress;
  /** Extra entries for meta.json's `versions` (the calling tool's own version). */
  versions?: Record<string, string>;
  /** Where to apply the plan's thread count (default process.env, before the backend starts). */
  env?: NodeJS.ProcessEnv;
}

/**
 * Runs planned run `index` of the plan in `dir`. An error before or during training (bad data, a
 * bad model) is recorded in the run's meta.json as a failure, then thrown for the caller to report.
 */
export async function runPlannedRun(
  dir: string,
  index: number,
  options: SweepRunOptions = {},
): Promise<SweepRunResult> {
  const progress = options.progress ?? { update() {}, log: (message: string) => console.error(message) };
  const log = (message: string) => progress.log(message);
  const plan = readPlan(dir);
  const run: PlannedRun | undefined = plan.runs[index];
  if (!run) {
    throw new SweepError(
      `run index ${index} is out of range: the plan ${dir} has runs 0 to ${plan.runs.length - 1}`,
    );
  }
  const runDir = runDirOf(dir, run);
  const result = (action: RunAction, status: RunMeta['status'], error?: string): SweepRunResult => ({
    index,
    id: run.id,
    name: run.name,
    runDir,
    action,
    status,
    ...(error ? { error } : {}),
  });

  const staleAfterMs = checkStaleAfter(options.staleAfterMs);
  const before = readRunState(runDir, Date.now(), staleAfterMs);
  if (before.state === 'completed' || before.state === 'diverged') {
    log(`run ${index} (${run.id}, ${run.name}) already ${before.state}; skipped`);
    return result('skipped', before.state);
  }
  if (before.state === 'damaged') {
    throw new SweepError(`run ${index} (${run.id}, ${run.name}): ${before.detail}`);
  }
  const threadNote = applyPlanThreads(plan, options.env);
  if (threadNote) log(threadNote);
  const config = parseRunConfig(
    { ...run.config, output: runDir },
    `${path.join(dir, PLAN_FILE)} run ${index}`,
  );
  if (options.signal?.aborted) return result('skipped', 'interrupted'); // stopped before anything was written
  ensureDirectory(runDir);
  // the trainer's own lock, taken here so that clearing a dead attempt's files is covered by it too
  const lock = lockRun(runDir, {
    purpose: `fisherlab sweep run (index ${index})`,
    staleAfterMs,
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
    if (options.signal?.aborted) return result(action, 'interrupted');
    try {
      const outcome = await train(config, {
        resume: action === 'resumed',
        lock,
        log,
        onProgress: (p) => progress.update(p),
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.versions ? { versions: options.versions } : {}),
      });
      return result(action, outcome.status, outcome.error?.message);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      recordRunFailure(runDir, { id: run.id, name: run.name, message });
      throw error;
    }
  } finally {
    lock.release();
  }
}
