import type { ChildProcess } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import path from 'node:path';
import { ensureDirectory } from '@fisherlab/storage';
import { type PlannedRun, readPlan, runDirOf } from './plan.js';
import { checkStaleAfter, readMeta, readRunState } from './run-state.js';
import { spawnWorker } from './spawn-worker.js';
import { threadEnvironment } from './threads.js';
import { classifyWorkerExit, elsewhere, type PoolRunStatus } from './worker-exit.js';
import { PROGRESS_ENV } from './worker-progress.js';

/**
 * `sweep local DIR --workers N`: the planned runs on this machine, each in its own child process
 * (`<workerCommand> sweep run DIR --index I`) so that a crash, a leak or an abort takes down one
 * run only. Each child's output goes to runs/<id>/worker.log; events feed one combined display.
 */

export interface PoolRunResult {
  index: number;
  id: string;
  name: string;
  status: PoolRunStatus;
  exitCode: number | null;
  seconds: number;
  error?: string;
  log: string;
}

export interface PoolSummary {
  results: PoolRunResult[];
  /** Runs not started: their records say they are done or damaged, or another live worker holds them. */
  skipped: { index: number; id: string; reason: string }[];
  interrupted: boolean;
}

export type PoolEvent =
  | { kind: 'start'; index: number; run: PlannedRun; worker: number }
  | { kind: 'progress'; index: number; step: number; totalSteps: number; figures: Record<string, unknown> }
  | { kind: 'end'; result: PoolRunResult };

export interface LocalPoolOptions {
  workers: number;
  /** Only these indices (default: all). */
  indices?: number[];
  /**
   * The fisherlab command a worker runs (`sweep run DIR --index I` is appended); default: the
   * program running now (node and process.argv[1]), which is right when the caller is the CLI.
   */
  workerCommand?: string[];
  env?: NodeJS.ProcessEnv;
  staleAfterMs?: number;
  onEvent?: (event: PoolEvent) => void;
  /** Aborting stops launching and sends SIGTERM to the workers (they checkpoint and exit). */
  signal?: AbortSignal;
}

/** Why a run is not to be started now, or undefined to start it. */
function notToStart(runDir: string, staleAfterMs: number): string | undefined {
  const state = readRunState(runDir, Date.now(), staleAfterMs);
  if (state.state === 'completed' || state.state === 'diverged') return `already ${state.state}`;
  if (state.state === 'running') return elsewhere(state.detail);
  if (state.state === 'damaged') return `damaged: ${state.detail}`;
  return undefined;
}

export async function runLocalPool(dir: string, options: LocalPoolOptions): Promise<PoolSummary> {
  const plan = readPlan(dir);
  const wanted = options.indices ?? plan.runs.map((r) => r.index);
  const staleAfterMs = checkStaleAfter(options.staleAfterMs);
  const queue: PlannedRun[] = [];
  const skipped: PoolSummary['skipped'] = [];
  for (const index of wanted) {
    const run = plan.runs[index]!;
    const reason = notToStart(runDirOf(dir, run), staleAfterMs);
    if (reason) skipped.push({ index, id: run.id, reason });
    else queue.push(run);
  }

  const command = options.workerCommand ?? [process.execPath, process.argv[1]!];
  const results: PoolRunResult[] = [];
  const children = new Set<ChildProcess>();
  let aborted = options.signal?.aborted ?? false;
  const onAbort = () => {
    aborted = true;
    for (const child of children) child.kill('SIGTERM');
  };
  options.signal?.addEventListener('abort', onAbort);

  const runOne = async (run: PlannedRun, worker: number): Promise<PoolRunResult> => {
    const runDir = runDirOf(dir, run);
    ensureDirectory(runDir);
    const logFile = path.join(runDir, 'worker.log');
    appendFileSync(logFile, `\n=== ${new Date().toISOString()} sweep local: run ${run.index} ===\n`);
    const started = Date.now();
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...options.env,
      ...threadEnvironment(plan),
      [PROGRESS_ENV]: 'jsonl',
    };
    delete env['JOB_COMPLETION_INDEX'];
    delete env['SLURM_ARRAY_TASK_ID'];
    const { child, ended } = spawnWorker({
      command: [...command, 'sweep', 'run', path.resolve(dir), '--index', String(run.index)],
      env,
      logFile,
      // With an abort signal the caller passes stops on (one SIGTERM per worker), so each worker
      // gets its own process group: a Ctrl-C in the terminal must not reach it as well, since a
      // worker takes a second signal as "exit now, without a checkpoint". Without one, workers
      // stay in the terminal's group and get its Ctrl-C directly.
      detached: options.signal !== undefined,
      onProgress: (step, totalSteps, figures) =>
        options.onEvent?.({ kind: 'progress', index: run.index, step, totalSteps, figures }),
    });
    children.add(child);
    options.onEvent?.({ kind: 'start', index: run.index, run, worker });
    const end = await ended;
    children.delete(child);
    const state = readRunState(runDir, Date.now(), staleAfterMs);
    const { status, error } = classifyWorkerExit({
      ...end,
      meta: readMeta(runDir),
      heldElsewhere:
        state.state === 'running' && state.holder?.pid !== child.pid
          ? (state.detail ?? 'another process holds it')
          : undefined,
      aborted,
      command,
    });
    const result: PoolRunResult = {
      index: run.index,
      id: run.id,
      name: run.name,
      status,
      exitCode: end.code,
      seconds: (Date.now() - started) / 1000,
      log: logFile,
      ...(error ? { error } : {}),
    };
    options.onEvent?.({ kind: 'end', result });
    return result;
  };

  let next = 0;
  const worker = async (id: number) => {
    while (!aborted && next < queue.length) {
      const run = queue[next++]!;
      // another pool may have started it since the queue was made
      const reason = notToStart(runDirOf(dir, run), staleAfterMs);
      if (reason) {
        skipped.push({ index: run.index, id: run.id, reason });
        continue;
      }
      results.push(await runOne(run, id));
    }
  };
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(options.workers, queue.length)) }, (_, w) => worker(w + 1)),
  );
  options.signal?.removeEventListener('abort', onAbort);
  results.sort((a, b) => a.index - b.index);
  return { results, skipped, interrupted: aborted };
}
