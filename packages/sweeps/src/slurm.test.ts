import { type ChildProcess, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import YAML from 'yaml';
import { ensureBuiltCli, runCli, runProcess } from './fixtures/built-cli.js';
import { type SlurmCluster, type SlurmStart, startSlurmCluster } from './fixtures/slurm-cluster.js';
import { readPlan, runDirOf } from './plan.js';

/**
 * The script from `fisherlab sweep emit slurm`, submitted with sbatch to a real one-node Slurm
 * cluster started on this machine (2 CPUs). Two array tasks are stopped mid-run the two ways a
 * cluster stops work: SIGTERM to the batch shell (what `--signal=B:TERM@N` sends before the time
 * limit), after which the script requeues its own task, and `scontrol requeue` (what an admin or a
 * preempting scheduler does); a third gets the batch shell's SIGTERM 0.3 s after it starts, while
 * fisherlab is still starting. All must resume (or start again) to exactly the metrics of an
 * uninterrupted run. Skipped where Slurm cannot start; under CI=true that is a failure.
 */

const scratch = mkdtempSync(path.join(os.tmpdir(), 'fisherlab-slurm-test-'));
let bin = '';
let started: SlurmStart = { ok: false, reason: 'the cluster was not started' };

beforeAll(async () => {
  bin = ensureBuiltCli();
  started = await startSlurmCluster(path.join(scratch, 'cluster'));
}, 300_000);

afterAll(async () => {
  if (started.ok) await started.cluster.stop();
  rmSync(scratch, { recursive: true, force: true });
}, 120_000);

function clusterOrSkip(ctx: TestContext): SlurmCluster {
  if (started.ok) return started.cluster;
  if (process.env['CI'] === 'true') {
    throw new Error(`Slurm did not start, and under CI=true this test must run:\n${started.reason}`);
  }
  console.warn(`Skipping the Slurm test: Slurm cannot start here:\n${started.reason}`);
  return ctx.skip(`Slurm cannot start here: ${started.reason.split('\n')[0]}`);
}

const fisherlab = (args: string[], env: NodeJS.ProcessEnv = {}) => runCli(bin, args, env);

async function waitFor(what: string, ready: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

// Long enough (about 9 s a run on an idle core) that a task is still training when the test stops it.
const EPOCHS = 400;
const STEPS_PER_EPOCH = 4; // 128 examples, batch 32
const sweepFile = {
  name: 'slurm-test',
  base: {
    dataset: { name: 'default', trainSubset: 128, testSubset: 64 },
    model: { arch: 'mlp', options: { hiddenUnits: [16] } },
    optimizer: { name: 'sgd', lr: 0.1 },
    batchSize: 32,
    epochs: EPOCHS,
    logEvery: 4,
    tracking: { estimator: 'minibatch', subset: 32, every: 8, earlyEpochs: 0 },
    backend: 'wasm',
  },
  grid: { 'optimizer.lr': [0.1, 0.01] },
  variants: [{ 'penalty.kind': 'none' }, { 'penalty.kind': 'fisher', 'penalty.alpha': 0.1 }],
};

/** metrics.jsonl without the wall-clock field `time`, one string per line. */
const metricsWithoutTime = (runDir: string): string[] =>
  readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => {
      const { time: _time, ...rest } = JSON.parse(line) as Record<string, unknown>;
      return JSON.stringify(rest);
    });

/** Plans the sweep into scratch/NAME and emits its sbatch script, as a user would; returns both paths. */
async function planAndEmit(name: string): Promise<{ file: string; dir: string; script: string }> {
  const file = path.join(scratch, 'sweep.yaml');
  writeFileSync(file, YAML.stringify(sweepFile));
  const dir = path.join(scratch, name);
  const planned = await fisherlab(['sweep', 'plan', file, '--out', dir]);
  expect(planned.code, planned.stderr).toBe(0);
  const script = path.join(dir, 'sweep.sbatch');
  const emitted = await fisherlab([
    'sweep',
    'emit',
    'slurm',
    dir,
    '--cpus-per-task',
    '1',
    '--command',
    `${process.execPath} ${bin}`,
    '--out',
    script,
  ]);
  expect(emitted.code, emitted.stderr).toBe(0);
  return { file, dir, script };
}

describe('the emitted sbatch script, run by bash alone (no Slurm needed)', () => {
  it('passes SIGTERM on to the run, which checkpoints; the script exits 130, and starting it again resumes the run', async () => {
    const { dir, script } = await planAndEmit('bash-only');
    const runDir = runDirOf(dir, readPlan(dir).runs[0]!);
    const { SLURM_JOB_ID: _job, ...env } = process.env;
    const task = (onStart?: (child: ChildProcess) => void) =>
      runProcess('bash', [script], { ...env, SLURM_ARRAY_TASK_ID: '0' }, onStart);
    const stopped = await task((shell) => {
      // SIGTERM to the shell alone, as `--signal=B:TERM@N` sends it
      waitFor(
        'run 0 to write its first checkpoint',
        () => existsSync(path.join(runDir, 'checkpoint.json')),
        60_000,
      )
        .then(() => shell.kill('SIGTERM'))
        .catch(() => shell.kill('SIGKILL'));
    });
    expect(stopped.code, stopped.stderr).toBe(130);
    expect(stopped.stderr).toContain('run 0 (');
    expect(stopped.stderr).toContain('): interrupted');
    expect(stopped.stderr).not.toContain('requeueing'); // outside Slurm there is nothing to requeue
    const again = await task();
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/resuming from step \d+/);
    expect(again.stderr).toContain('): completed');
  }, 300_000);
});

describe('Slurm: the emitted job array on a one-node cluster', () => {
  it('runs every run once; tasks stopped by SIGTERM or scontrol requeue resume to the metrics of an uninterrupted run', async (ctx) => {
    const slurm = clusterOrSkip(ctx);
    const { file, dir, script } = await planAndEmit('sweep');
    const plan = readPlan(dir);
    expect(plan.runs).toHaveLength(4);

    const jobId = slurm.run('sbatch', ['--parsable', script]).trim().split(';')[0]!;
    expect(jobId).toMatch(/^\d+$/);
    const runDirs = plan.runs.map((run) => runDirOf(dir, run));
    const checkpointed = (index: number) => existsSync(path.join(runDirs[index]!, 'checkpoint.json'));

    // task 1: SIGTERM to the batch shell, as Slurm sends it before the time limit; the script requeues it.
    // While other tasks of the array are pending, Slurm 22.05 delivers the signal at once but answers
    // "Job can not be altered now", and scancel retries every 5 s until the answer changes: the retry
    // would signal the requeued task again. `timeout` ends scancel before its first retry.
    await waitFor('run 1 to write its first checkpoint', () => checkpointed(1), 120_000);
    const scancel = spawnSync('timeout', ['3', 'scancel', '--batch', '--signal=TERM', `${jobId}_1`], {
      env: slurm.env,
      encoding: 'utf8',
    });
    expect([0, 124], scancel.stderr).toContain(scancel.status);
    // task 2: requeued by Slurm itself, which sends SIGTERM to the task's processes and restarts it later
    await waitFor('run 2 to write its first checkpoint', () => checkpointed(2), 120_000);
    slurm.run('scontrol', ['requeue', `${jobId}_2`]);
    // task 3: SIGTERM to the batch shell 0.3 s after Slurm starts it, while fisherlab is still
    // starting up: it must end requeued and completed like the others, never FAILED
    const taskState = (index: number) =>
      slurm.run('squeue', ['--noheader', '--jobs', `${jobId}_${index}`, '--format', '%T']).trim();
    // it starts once a CPU is free: after task 0 ends, or a stopped task gives its CPU back
    await waitFor('task 3 to start', () => taskState(3) === 'RUNNING', 900_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const early = spawnSync('timeout', ['3', 'scancel', '--batch', '--signal=TERM', `${jobId}_3`], {
      env: slurm.env,
      encoding: 'utf8',
    });
    expect([0, 124], early.stderr).toContain(early.status);

    await waitFor(
      `job array ${jobId} to finish`,
      () => slurm.run('squeue', ['--noheader', '--jobs', jobId]).trim() === '',
      900_000,
    );

    // Slurm's own account: every task completed, the two stopped ones after exactly one requeue
    for (const index of [0, 1, 2, 3]) {
      const job = slurm.run('scontrol', ['show', 'job', '--oneliner', `${jobId}_${index}`]);
      expect(job, `task ${index}`).toContain('JobState=COMPLETED');
      expect(job, `task ${index}`).toContain(`Restarts=${index === 0 ? 0 : 1}`);
    }
    // each task's log (appended to across attempts): one start, and one resume for the stopped tasks
    const logOf = (index: number) =>
      readFileSync(path.join(dir, 'logs', `fisherlab-slurm-test-${jobId}_${index}.out`), 'utf8');
    for (const index of [0, 1, 2, 3]) {
      const log = logOf(index);
      const resumes = [...log.matchAll(/resuming from step (\d+)/g)].map((m) => Number(m[1]));
      if (index === 3) {
        // stopped during start-up: before its run began (nothing written; it starts again), or
        // just after (a checkpoint at step 0; it resumes from there)
        expect((log.match(/: starting$/gm) ?? []).length + resumes.length, log).toBeLessThanOrEqual(2);
        expect(
          resumes.every((step) => step === 0),
          log,
        ).toBe(true);
        continue;
      }
      expect(log.match(/: starting$/gm), log).toHaveLength(1);
      if (index === 1 || index === 2) {
        expect(resumes, log).toHaveLength(1);
        expect(resumes[0]).toBeGreaterThan(0);
        expect(resumes[0]).toBeLessThan(EPOCHS * STEPS_PER_EPOCH);
      } else {
        expect(resumes, log).toEqual([]);
      }
    }
    expect(logOf(1)).toMatch(/the run stopped after SIGTERM; requeueing job \d+_1 /);
    expect(logOf(3)).toMatch(/the run stopped after SIGTERM; requeueing job \d+_3 /);
    expect(logOf(2)).toMatch(/the run stopped after SIGTERM; Slurm is ending job \d+_2 \(state COMPLETING\)/);

    const status = await fisherlab(['sweep', 'status', dir, '--json']);
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout).summary).toEqual({
      done: 4,
      running: 0,
      failed: 0,
      pending: 0,
      damaged: 0,
    });
    const reportFile = path.join(scratch, 'report.html');
    const report = await fisherlab(['report', dir, '--out', reportFile]);
    expect(report.code, report.stderr).toBe(0);
    expect(report.stdout).toContain('(4 runs,');
    const html = readFileSync(reportFile, 'utf8');
    for (const run of plan.runs) expect(html).toContain(run.id);
    // every logged training step appears once, in order: no attempt's records were doubled or lost
    for (const runDir of runDirs) {
      const trainSteps = metricsWithoutTime(runDir)
        .map((line) => JSON.parse(line) as { kind: string; step: number })
        .filter((r) => r.kind === 'train')
        .map((r) => r.step);
      expect(trainSteps).toEqual(Array.from({ length: EPOCHS }, (_, i) => STEPS_PER_EPOCH * (i + 1)));
    }

    // the same two runs, planned elsewhere and run without interruption, give the same records line for line
    const reference = path.join(scratch, 'reference');
    expect((await fisherlab(['sweep', 'plan', file, '--out', reference])).code).toBe(0);
    const uninterrupted = await Promise.all(
      [1, 2, 3].map((index) => fisherlab(['sweep', 'run', reference, '--index', String(index)])),
    );
    for (const run of uninterrupted) expect(run.code, run.stderr).toBe(0);
    for (const index of [1, 2, 3]) {
      expect(metricsWithoutTime(runDirs[index]!)).toEqual(
        metricsWithoutTime(runDirOf(reference, readPlan(reference).runs[index]!)),
      );
    }
  }, 1_800_000);
});
