import path from 'node:path';
import { SweepError } from './errors.js';
import type { SweepPlan } from './plan.js';
import { NATIVE_THREADS_ENV, nativeThreadsOf } from './threads.js';

/**
 * An sbatch script for a planned sweep: a job array 0..N-1 with a concurrency limit, each task
 * running `fisherlab sweep run DIR`, which reads its index from SLURM_ARRAY_TASK_ID.
 *
 * Preemption: Slurm sends SIGTERM to the batch shell `signalBefore` seconds before the time limit
 * (`--signal=B:TERM@N`; `scancel --batch --signal=TERM` sends the same). The shell passes it on to
 * the run, which checkpoints and exits 130, and then requeues its own task (`--requeue` makes the
 * job requeueable), so the task resumes from that checkpoint. It requeues only while Slurm still
 * counts the task as RUNNING: a task that Slurm is ending itself (scancel, scontrol requeue,
 * preemption) is left to Slurm, so a cancelled task stays cancelled.
 */

export interface SlurmOptions {
  /** Default fisherlab-<sweep name>. */
  jobName?: string;
  /** Array tasks running at once (the %N of --array); default 4. */
  concurrency?: number;
  /** Default: the plan's native thread count (every run uses that many threads, whatever is asked). */
  cpusPerTask?: number;
  /** e.g. '16G'. */
  mem?: string;
  /** Wall time per task, e.g. '12:00:00'. */
  time?: string;
  /** GPUs per task (--gres=gpu:N). */
  gpus?: number;
  partition?: string;
  account?: string;
  /** Where Slurm writes each task's stdout/stderr; default DIR/logs (created by the emitter). */
  logDir?: string;
  /** Shell lines run before the command, e.g. 'module load cuda/11.8' or a venv activation. */
  setup?: string[];
  /** How to invoke fisherlab on the nodes (default 'fisherlab'), e.g. 'apptainer exec fisherlab.sif fisherlab'. */
  command?: string;
  /** Seconds before the time limit at which Slurm sends SIGTERM (--signal=B:TERM@N); default 120. */
  signalBefore?: number;
}

/** Quotes a word for bash: single quotes, with embedded ones closed and escaped. */
export const shellQuote = (word: string): string =>
  /^[A-Za-z0-9_./:=@%+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;

const SAFE_DIRECTIVE = /^[^\n\r#]*$/;

export function slurmScript(plan: SweepPlan, planDir: string, options: SlurmOptions = {}): string {
  const runs = plan.runs.length;
  const dir = path.resolve(planDir);
  const logDir = path.resolve(options.logDir ?? path.join(dir, 'logs'));
  const concurrency = options.concurrency ?? 4;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new SweepError(`--concurrency must be a positive integer, got ${concurrency}`);
  }
  const signalBefore = options.signalBefore ?? 120;
  if (!Number.isInteger(signalBefore) || signalBefore < 1) {
    throw new SweepError(`--signal-before must be a positive number of seconds, got ${signalBefore}`);
  }
  const directives: [string, string | number | true | undefined][] = [
    ['job-name', options.jobName ?? `fisherlab-${plan.sweep}`],
    ['array', `0-${runs - 1}%${concurrency}`],
    ['output', path.join(logDir, '%x-%A_%a.out')],
    // a requeued task appends to its log instead of truncating the earlier attempt's output
    ['open-mode', 'append'],
    ['cpus-per-task', options.cpusPerTask ?? nativeThreadsOf(plan)],
    ['mem', options.mem],
    ['time', options.time],
    ['gres', options.gpus ? `gpu:${options.gpus}` : undefined],
    ['partition', options.partition],
    ['account', options.account],
    ['requeue', true],
    ['signal', `B:TERM@${signalBefore}`],
  ];
  const lines = [
    '#!/bin/bash',
    `# Slurm job array for FisherLab sweep ${plan.sweep}: ${runs} runs planned in ${dir}.`,
    '# Submit: sbatch this-script. Resubmitting is safe: completed runs are skipped, interrupted ones resume.',
    '# Progress: fisherlab sweep status DIR.',
    `# Preemption: SIGTERM to this shell (Slurm sends it ${signalBefore} s before the time limit; by hand:`,
    '# scancel --batch --signal=TERM JOBID_TASK) makes the run checkpoint and exit 130, and the task then',
    '# requeues itself to resume from that checkpoint. Tasks that Slurm ends itself (scancel,',
    '# scontrol requeue, preemption) are not requeued by this script.',
  ];
  for (const [key, value] of directives) {
    if (value === undefined || value === '') continue;
    if (value === true) {
      lines.push(`#SBATCH --${key}`);
      continue;
    }
    const text = String(value);
    if (!SAFE_DIRECTIVE.test(text))
      throw new SweepError(`--${key} must be one line without '#', got ${JSON.stringify(text)}`);
    lines.push(`#SBATCH --${key}=${/\s/.test(text) ? shellQuote(text) : text}`);
  }
  lines.push('', ...taskLines(plan, dir, options));
  return lines.join('\n');
}

/**
 * The task: the run in the background (bash runs a trap only between commands, so the shell
 * waits for it), SIGTERM/SIGINT passed on to it, and a requeue after it checkpointed. The trap
 * comes first, so a signal before the run starts is not lost: the run is then not started, and the
 * task requeues as after any interruption.
 */
function taskLines(plan: SweepPlan, dir: string, options: SlurmOptions): string[] {
  return [
    'signals=0',
    'run=',
    `trap 'signals=$((signals + 1)); if [ -n "$run" ]; then kill -TERM "$run" 2>/dev/null || true; fi' TERM INT`,
    'set -euo pipefail',
    ...(options.setup ?? []),
    "# the plan's thread count: one run id gives the same numbers on every engine",
    `export ${NATIVE_THREADS_ENV}=${nativeThreadsOf(plan)}`,
    'status=130',
    'if [ "$signals" -eq 0 ]; then',
    `  ${options.command ?? 'fisherlab'} sweep run ${shellQuote(dir)} &`,
    '  run=$!',
    '  handled=0',
    '  while :; do',
    '    status=0',
    '    wait "$run" || status=$?',
    '    # a signal cuts the wait short: wait again for the exit status of the run itself',
    '    [ "$handled" -eq "$signals" ] && break',
    '    handled=$signals',
    '  done',
    '  # killed by the SIGTERM itself: it came while node was still starting, before fisherlab',
    '  # could handle it, so nothing was written yet: an interruption like any other',
    '  if [ "$status" -eq 143 ] && [ "$signals" -gt 0 ]; then status=130; fi',
    'fi',
    "# the task itself: an array task's SLURM_JOB_ID is the whole array's id for its last task",
    'job=$(printenv SLURM_JOB_ID || true)',
    'if [ -n "$(printenv SLURM_ARRAY_JOB_ID || true)" ]; then',
    '  job="$(printenv SLURM_ARRAY_JOB_ID)_$(printenv SLURM_ARRAY_TASK_ID)"',
    'fi',
    'if [ "$status" -eq 130 ] && [ -n "$job" ]; then',
    '  state=$(squeue --noheader --jobs "$job" --format %T 2>/dev/null || true)',
    '  if [ "$state" = RUNNING ]; then',
    '    echo "fisherlab: the run stopped after SIGTERM; requeueing job $job to resume it from its last checkpoint" >&2',
    '    scontrol requeue "$job"',
    '  else',
    '    echo "fisherlab: the run stopped after SIGTERM; Slurm is ending job $job (state $state): it resumes if Slurm requeues it, or when this script is submitted again" >&2',
    '  fi',
    'fi',
    'exit "$status"',
    '',
  ];
}
