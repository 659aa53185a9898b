import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDirectory } from '../run/files.js';
import { formatDuration } from '../run/progress.js';
import { type PlannedRun, readPlan, runDirOf } from './plan.js';
import { DEFAULT_STALE_AFTER_MS, readMeta, readRunState } from './run-state.js';

/** Why a run was not trained here: another pool or worker holds it. */
const elsewhere = (detail: string | undefined) =>
  `running elsewhere (${detail ?? 'another process holds it'})`;

import { PROGRESS_ENV, PROGRESS_PREFIX } from './worker-progress.js';

/**
 * `sweep local DIR --workers N`: the planned runs on this machine, each in its own child process
 * (`fisherlab sweep run DIR --index I`) so that a crash, a leak or an abort takes down one run only.
 * Each child's output goes to runs/<id>/worker.log; the pool shows one combined display.
 */

/** The built CLI next to this module: dist/bin.js from dist/sweep/ (and from src/sweep/ in tests). */
export function builtCliPath(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  return path.resolve(here, '..', '..', 'dist', 'bin.js');
}

export interface PoolRunResult {
  index: number;
  id: string;
  name: string;
  status: 'completed' | 'diverged' | 'failed' | 'interrupted' | 'skipped';
  exitCode: number | null;
  seconds: number;
  error?: string;
  log: string;
}

export interface PoolSummary {
  results: PoolRunResult[];
  /** Runs not started because their records say they are done or another live worker holds them. */
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
  /** Command for a worker: default [node, dist/bin.js]. */
  workerCommand?: string[];
  env?: NodeJS.ProcessEnv;
  staleAfterMs?: number;
  onEvent?: (event: PoolEvent) => void;
  /** Aborting stops launching and sends SIGTERM to the workers (they checkpoint and exit). */
  signal?: AbortSignal;
}

const TAIL_LINES = 20;

/**
 * Threads each worker's native CPU tier may use: the cores shared out among the workers, unless the
 * user set FISHERLAB_NATIVE_THREADS. Two workers with two OpenMP threads each on two cores made
 * every step wait for a descheduled thread.
 */
export function nativeThreadsPerWorker(
  workers: number,
  env: NodeJS.ProcessEnv,
  cores = availableParallelism(),
): string | undefined {
  if (env['FISHERLAB_NATIVE_THREADS'] !== undefined) return env['FISHERLAB_NATIVE_THREADS'];
  return String(Math.max(1, Math.floor(cores / Math.max(1, workers))));
}

export async function runLocalPool(dir: string, options: LocalPoolOptions): Promise<PoolSummary> {
  const plan = readPlan(dir);
  const wanted = options.indices ?? plan.runs.map((r) => r.index);
  const staleAfterMs = options.staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
  const queue: PlannedRun[] = [];
  const skipped: PoolSummary['skipped'] = [];
  for (const index of wanted) {
    const run = plan.runs[index]!;
    const state = readRunState(runDirOf(dir, run), Date.now(), staleAfterMs);
    if (state.state === 'completed' || state.state === 'diverged') {
      skipped.push({ index, id: run.id, reason: `already ${state.state}` });
    } else if (state.state === 'running') {
      skipped.push({ index, id: run.id, reason: elsewhere(state.detail) });
    } else {
      queue.push(run);
    }
  }

  const command = options.workerCommand ?? [process.execPath, builtCliPath()];
  const results: PoolRunResult[] = [];
  const children = new Set<ChildProcess>();
  let aborted = options.signal?.aborted ?? false;
  const onAbort = () => {
    aborted = true;
    for (const child of children) child.kill('SIGTERM');
  };
  options.signal?.addEventListener('abort', onAbort);

  const runOne = (run: PlannedRun, worker: number): Promise<PoolRunResult> =>
    new Promise((resolve) => {
      const runDir = runDirOf(dir, run);
      ensureDirectory(runDir);
      const logFile = path.join(runDir, 'worker.log');
      appendFileSync(logFile, `\n=== ${new Date().toISOString()} sweep local: run ${run.index} ===\n`);
      const started = Date.now();
      const env: NodeJS.ProcessEnv = { ...process.env, ...options.env, [PROGRESS_ENV]: 'jsonl' };
      env['FISHERLAB_NATIVE_THREADS'] = nativeThreadsPerWorker(options.workers, env);
      delete env['JOB_COMPLETION_INDEX'];
      delete env['SLURM_ARRAY_TASK_ID'];
      const child = spawn(
        command[0]!,
        [...command.slice(1), 'sweep', 'run', path.resolve(dir), '--index', String(run.index)],
        {
          env,
          stdio: ['ignore', 'pipe', 'pipe'],
          // With an abort signal the caller passes stops on (one SIGTERM per worker), so each worker
          // gets its own process group: a Ctrl-C in the terminal must not reach it as well, since a
          // worker takes a second signal as "exit now, without a checkpoint". Without one, workers
          // stay in the terminal's group and get its Ctrl-C directly.
          detached: options.signal !== undefined,
        },
      );
      children.add(child);
      options.onEvent?.({ kind: 'start', index: run.index, run, worker });
      const tail: string[] = [];
      const keep = (line: string) => {
        appendFileSync(logFile, `${line}\n`);
        tail.push(line);
        if (tail.length > TAIL_LINES) tail.shift();
      };
      const lineReader = (onLine: (line: string) => void) => {
        let pending = '';
        return (chunk: Buffer) => {
          pending += chunk.toString('utf8');
          const lines = pending.split('\n');
          pending = lines.pop()!;
          for (const line of lines) onLine(line);
        };
      };
      child.stdout!.on(
        'data',
        lineReader((line) => {
          if (line.startsWith(PROGRESS_PREFIX)) {
            try {
              const { step, totalSteps, ...figures } = JSON.parse(
                line.slice(PROGRESS_PREFIX.length),
              ) as Record<string, number>;
              options.onEvent?.({
                kind: 'progress',
                index: run.index,
                step: step ?? 0,
                totalSteps: totalSteps ?? 0,
                figures,
              });
            } catch {
              keep(line);
            }
          } else {
            keep(line);
          }
        }),
      );
      child.stderr!.on('data', lineReader(keep));
      const finish = (code: number | null, killedBy: NodeJS.Signals | null, spawnError?: Error) => {
        children.delete(child);
        const meta = readMeta(runDir);
        let status: PoolRunResult['status'];
        let error: string | undefined;
        if (spawnError) {
          status = 'failed';
          error = `could not start the worker (${command.join(' ')}): ${spawnError.message}`;
        } else if (code === 0) {
          status =
            meta?.status === 'diverged' ? 'diverged' : meta?.status === 'completed' ? 'completed' : 'skipped';
          if (status === 'diverged') error = meta?.error?.message;
        } else if (heldElsewhere(runDir, child.pid)) {
          // another pool or worker took the run between our check and the worker's lock
          status = 'skipped';
          error = elsewhere(readRunState(runDir, Date.now(), staleAfterMs).detail);
        } else if (meta?.status === 'completed' || meta?.status === 'diverged') {
          // ... and finished it before we looked at the lock (this pool only starts unfinished runs)
          status = 'skipped';
          error = elsewhere(`it ${meta.status} there`);
        } else if (meta?.status === 'interrupted' || code === 130 || (aborted && killedBy !== null)) {
          // a worker stopped by our SIGTERM before it installed its handlers dies of the signal: still an interruption
          status = 'interrupted';
        } else {
          status = 'failed';
          error =
            meta?.status === 'failed' && meta.error
              ? meta.error.message
              : `worker ${killedBy ? `was killed by ${killedBy}` : `exited with code ${code}`}; last output:\n    ${tail.slice(-5).join('\n    ')}`;
        }
        const result: PoolRunResult = {
          index: run.index,
          id: run.id,
          name: run.name,
          status,
          exitCode: code,
          seconds: (Date.now() - started) / 1000,
          log: logFile,
          ...(error ? { error } : {}),
        };
        options.onEvent?.({ kind: 'end', result });
        resolve(result);
      };
      child.on('error', (error) => finish(null, null, error));
      child.on('close', (code, signal) => finish(code, signal));
    });

  const heldElsewhere = (runDir: string, workerPid: number | undefined) => {
    const state = readRunState(runDir, Date.now(), staleAfterMs);
    return state.state === 'running' && state.holder?.pid !== workerPid;
  };

  let next = 0;
  const worker = async (id: number) => {
    while (!aborted && next < queue.length) {
      const run = queue[next++]!;
      // another pool may have started it since the queue was made
      const now = readRunState(runDirOf(dir, run), Date.now(), staleAfterMs);
      if (now.state === 'running' || now.state === 'completed' || now.state === 'diverged') {
        skipped.push({
          index: run.index,
          id: run.id,
          reason: now.state === 'running' ? elsewhere(now.detail) : `already ${now.state}`,
        });
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

/** Plain event lines (logs, CI) or, on a terminal, a redrawn block: one line per worker and a tally. */
export function createPoolDisplay(
  plan: { sweep: string; total: number; status?: () => string },
  stream: NodeJS.WriteStream = process.stderr,
  interactive = Boolean(stream.isTTY) && !process.env['CI'],
): { onEvent: (event: PoolEvent) => void; done: () => void } {
  const active = new Map<
    number,
    { worker: number; name: string; step: number; totalSteps: number; started: number; figures: string }
  >();
  const tally = { completed: 0, diverged: 0, failed: 0, interrupted: 0, skipped: 0 };
  let drawnLines = 0;
  let lastDraw = 0;
  const status = () => (plan.status ? `; ${plan.status()}` : '');
  const draw = (force = false) => {
    if (!interactive) return;
    const now = Date.now();
    if (!force && now - lastDraw < 250) return;
    lastDraw = now;
    const lines = [
      `sweep ${plan.sweep}: ${tally.completed} completed, ${tally.diverged} diverged, ${tally.failed} failed, ${active.size} running, of ${plan.total}${status()}`,
      ...[...active.entries()]
        .sort((a, b) => a[1].worker - b[1].worker)
        .map(([index, a]) => {
          const fraction = a.totalSteps ? a.step / a.totalSteps : 0;
          const bar = `${'#'.repeat(Math.round(fraction * 16))}${'.'.repeat(16 - Math.round(fraction * 16))}`;
          return `  w${a.worker} #${index} [${bar}] ${(100 * fraction).toFixed(0).padStart(3)}% ${formatDuration((now - a.started) / 1000)}  ${a.name}  ${a.figures}`;
        }),
    ];
    const width = stream.columns || 120;
    const clear = drawnLines > 0 ? `\x1b[${drawnLines}F` : '';
    stream.write(`${clear}${lines.map((l) => `\x1b[2K${l.slice(0, width - 1)}`).join('\n')}\n`);
    drawnLines = lines.length;
  };
  const say = (line: string) => {
    if (interactive && drawnLines > 0) {
      stream.write(`\x1b[${drawnLines}F\x1b[0J`);
      drawnLines = 0;
    }
    stream.write(`${line}\n`);
    draw(true);
  };
  return {
    onEvent(event) {
      if (event.kind === 'start') {
        active.set(event.index, {
          worker: event.worker,
          name: event.run.name,
          step: 0,
          totalSteps: 0,
          started: Date.now(),
          figures: '',
        });
        if (!interactive) say(`[w${event.worker}] start #${event.index} ${event.run.id} ${event.run.name}`);
        else draw(true);
      } else if (event.kind === 'progress') {
        const a = active.get(event.index);
        if (!a) return;
        a.step = event.step;
        a.totalSteps = event.totalSteps;
        const f = event.figures as { loss?: number; traceF?: number };
        a.figures = [
          f.loss !== undefined ? `loss ${f.loss.toPrecision(3)}` : '',
          f.traceF !== undefined ? `Tr(F) ${f.traceF.toPrecision(3)}` : '',
        ]
          .filter(Boolean)
          .join('  ');
        draw();
      } else {
        const r = event.result;
        active.delete(r.index);
        tally[r.status] += 1;
        say(
          `${r.status === 'failed' ? 'FAILED' : r.status} #${r.index} ${r.id} ${r.name} (${formatDuration(r.seconds)})${r.error && r.status !== 'failed' ? `: ${r.error}` : ''}${interactive ? '' : status()}`,
        );
      }
    },
    done() {
      if (interactive && drawnLines > 0) draw(true);
    },
  };
}

export function formatPoolSummary(summary: PoolSummary, dir: string): string {
  const count = (s: PoolRunResult['status']) => summary.results.filter((r) => r.status === s).length;
  const lines = [
    `ran ${summary.results.length}: ${count('completed')} completed, ${count('diverged')} diverged, ${count('failed')} failed, ${count('interrupted')} interrupted` +
      (summary.skipped.length
        ? `; ${summary.skipped.length} not started (done already or running elsewhere)`
        : ''),
  ];
  const away = [
    ...summary.skipped.filter((s) => s.reason.startsWith('running elsewhere')),
    ...summary.results.filter((r) => r.status === 'skipped' && r.error?.startsWith('running elsewhere')),
  ];
  for (const r of away) lines.push(`  #${r.index} ${r.id}: ${'reason' in r ? r.reason : r.error}`);
  const failed = summary.results.filter((r) => r.status === 'failed');
  if (failed.length) {
    lines.push('', 'Failed runs:');
    for (const r of failed) {
      const error = (r.error ?? 'no error recorded').replace(/\n/g, '\n    ');
      lines.push(`  #${r.index} ${r.id} ${r.name}\n    ${error}\n    log: ${r.log}`);
    }
    lines.push(
      '',
      `Fix the cause and run \`fisherlab sweep local ${dir}\` again: finished runs are skipped, the rest resume.`,
    );
  }
  if (summary.interrupted) lines.push('', `Interrupted: run the same command again to resume.`);
  return lines.join('\n');
}
