import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubernetesJob } from './emit-k8s.js';
import { slurmScript } from './emit-slurm.js';
import { ensureBuiltCli, runCli, runProcess } from './fixtures/built-cli.js';
import { planSweep, runDirOf, type SweepPlan, writePlan } from './plan.js';
import { parseSweep } from './spec.js';

/**
 * One thread count for a run id on every engine: the plan records it, and the local pool, the
 * Slurm script and the Kubernetes manifest all run the run with it, even where the environment or
 * the engine's own setting says otherwise. Each engine runs run 0 of the same plan here; all record
 * the plan's count and log the same numbers.
 */

const scratch = mkdtempSync(path.join(os.tmpdir(), 'fisherlab-threads-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let bin = '';
beforeAll(() => {
  bin = ensureBuiltCli();
}, 300_000);

const sweep = parseSweep(
  {
    name: 'threads',
    threads: 2,
    base: {
      dataset: { name: 'default', trainSubset: 128, testSubset: 64 },
      model: { arch: 'mlp', options: { hiddenUnits: [16] } },
      optimizer: { name: 'sgd', lr: 0.1 },
      batchSize: 32,
      steps: 8,
      tracking: { estimator: 'minibatch', subset: 32, every: 4, earlyEpochs: 0 },
      backend: 'wasm',
    },
    seeds: [0, 1],
  },
  '',
);

const planIn = (name: string): { dir: string; plan: SweepPlan } => {
  const dir = path.join(scratch, name);
  const plan = planSweep(sweep);
  writePlan(dir, plan);
  return { dir, plan };
};

const record = (dir: string, plan: SweepPlan) => {
  const runDir = runDirOf(dir, plan.runs[0]!);
  const { nativeThreads } = JSON.parse(readFileSync(path.join(runDir, 'meta.json'), 'utf8'));
  const lines = readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n');
  const metrics = lines.map((line) => {
    const { time: _time, ...rest } = JSON.parse(line) as Record<string, unknown>;
    return rest;
  });
  return { nativeThreads: nativeThreads as number | undefined, metrics };
};

describe('the thread policy of a plan', () => {
  it('is written into the Slurm script and the Kubernetes manifest as the same value', () => {
    const plan = planSweep(sweep);
    expect(plan.nativeThreads).toBe(2);
    const script = slurmScript(plan, '/sweeps/t', { cpusPerTask: 1 });
    expect(script).toContain('\nexport FISHERLAB_NATIVE_THREADS=2\n');
    expect(slurmScript(plan, '/sweeps/t')).toContain('#SBATCH --cpus-per-task=2');
    const job = kubernetesJob(plan, { image: 'fisherlab:test', pvc: 'sweeps' });
    expect(job.spec?.template.spec?.containers[0]?.env).toContainEqual({
      name: 'FISHERLAB_NATIVE_THREADS',
      value: '2',
    });
    expect(() =>
      kubernetesJob(plan, { image: 'i', pvc: 'p', env: { FISHERLAB_NATIVE_THREADS: '4' } }),
    ).toThrow(/the plan sets the thread count/);
  });

  it('gives run 0 the same threads and the same numbers in the local pool, on Slurm and on Kubernetes', async () => {
    // the environment asks for 1 thread everywhere: the plan's 2 must win on every engine
    const env = { FISHERLAB_NATIVE_THREADS: '1' };

    const local = planIn('local');
    const pool = await runCli(bin, ['sweep', 'local', local.dir, '--workers', '2'], env);
    expect(pool.code, pool.stdout + pool.stderr).toBe(0);

    const slurm = planIn('slurm');
    const script = path.join(slurm.dir, 'task.sbatch');
    const text = slurmScript(slurm.plan, slurm.dir, {
      cpusPerTask: 1,
      command: `${process.execPath} ${bin}`,
    });
    writeFileSync(script, text);
    const { SLURM_JOB_ID: _job, ...outside } = process.env;
    const task = await runProcess('bash', [script], { ...outside, ...env, SLURM_ARRAY_TASK_ID: '0' });
    expect(task.code, task.stderr).toBe(0);

    const k8s = planIn('k8s');
    const container = kubernetesJob(k8s.plan, { image: 'fisherlab:test', pvc: 'sweeps' }).spec!.template.spec!
      .containers[0]!;
    const podEnv = Object.fromEntries((container.env ?? []).map((e) => [e.name, e.value]));
    const args = container.command!.slice(1).map((word) => (word === '/sweep' ? k8s.dir : word));
    const podRun = await runCli(bin, args, { ...env, ...podEnv, JOB_COMPLETION_INDEX: '0' });
    expect(podRun.code, podRun.stderr).toBe(0);

    const [a, b, c] = [
      record(local.dir, local.plan),
      record(slurm.dir, slurm.plan),
      record(k8s.dir, k8s.plan),
    ];
    // meta.json records the count where the native kernels ran (they are built on FisherLab's machines)
    expect([a.nativeThreads, b.nativeThreads, c.nativeThreads]).toEqual(
      a.nativeThreads === undefined ? [undefined, undefined, undefined] : [2, 2, 2],
    );
    expect(b.metrics).toEqual(a.metrics);
    expect(c.metrics).toEqual(a.metrics);
  }, 400_000);
});
