import path from 'node:path';
import { UserError } from '../errors.js';
import type { SweepPlan } from './plan.js';

/**
 * An sbatch script for a planned sweep: a job array 0..N-1 with a concurrency limit, each task
 * running `fisherlab sweep run DIR`, which reads its index from SLURM_ARRAY_TASK_ID.
 */

export interface SlurmOptions {
  /** Default fisherlab-<sweep name>. */
  jobName?: string;
  /** Array tasks running at once (the %N of --array); default 4. */
  concurrency?: number;
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
    throw new UserError(`--concurrency must be a positive integer, got ${concurrency}`);
  }
  const directives: [string, string | number | undefined][] = [
    ['job-name', options.jobName ?? `fisherlab-${plan.sweep}`],
    ['array', `0-${runs - 1}%${concurrency}`],
    ['output', path.join(logDir, '%x-%A_%a.out')],
    ['cpus-per-task', options.cpusPerTask],
    ['mem', options.mem],
    ['time', options.time],
    ['gres', options.gpus ? `gpu:${options.gpus}` : undefined],
    ['partition', options.partition],
    ['account', options.account],
    // SIGTERM to the task 2 minutes before its time limit: the run checkpoints and exits 130, and
    // resubmitting the script resumes it.
    ['signal', 'B:TERM@120'],
  ];
  const lines = [
    '#!/bin/bash',
    `# Slurm job array for FisherLab sweep ${plan.sweep}: ${runs} runs planned in ${dir}.`,
    '# Submit: sbatch this-script. Resubmitting is safe: completed runs are skipped, interrupted ones resume.',
    '# Progress: fisherlab sweep status DIR.',
  ];
  for (const [key, value] of directives) {
    if (value === undefined || value === '') continue;
    const text = String(value);
    if (!SAFE_DIRECTIVE.test(text))
      throw new UserError(`--${key} must be one line without '#', got ${JSON.stringify(text)}`);
    lines.push(`#SBATCH --${key}=${/\s/.test(text) ? shellQuote(text) : text}`);
  }
  lines.push('', 'set -euo pipefail', ...(options.setup ?? []));
  lines.push(`exec ${options.command ?? 'fisherlab'} sweep run ${shellQuote(dir)}`, '');
  return lines.join('\n');
}
