import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { kubernetesJob, kubernetesJobYaml, validateKubernetesJob } from './emit-k8s.js';
import { builtCliPath, ensureBuiltCli, runCli as runBuiltCli } from './fixtures/built-cli.js';
import { planSweep, readPlan, runDirOf, writePlan } from './plan.js';
import { parseSweep } from './spec.js';
import { sweepStatus } from './status.js';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'fisherlab-workers-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/**
 * End to end with the built CLI in child processes, as the engines run it: `sweep local` with a
 * pool, a killed worker resumed, and a simulated Kubernetes Indexed Job. Runs are tiny (an MLP on
 * 128 embedded examples, a few dozen steps), so each takes seconds.
 */

const bin = builtCliPath();

const tinyBase = {
  dataset: { name: 'default', trainSubset: 128, testSubset: 64 },
  model: { arch: 'mlp', options: { hiddenUnits: [16] } },
  optimizer: { name: 'sgd', lr: 0.1 },
  batchSize: 32,
  logEvery: 4,
  tracking: { estimator: 'minibatch', subset: 32, every: 8, earlyEpochs: 0 },
  backend: 'wasm',
};

function plan(name: string, sweep: Record<string, unknown>) {
  const dir = mkdtempSync(path.join(scratch, `fisherlab-${name}-`));
  const planned = planSweep(parseSweep({ name, base: tinyBase, ...sweep }, ''));
  writePlan(dir, planned);
  return { dir, plan: planned };
}

const runCli = (args: string[], env: NodeJS.ProcessEnv = {}, onSpawn?: (child: ChildProcess) => void) =>
  runBuiltCli(bin, args, env, onSpawn);

const meta = (runDir: string) => JSON.parse(readFileSync(path.join(runDir, 'meta.json'), 'utf8'));
const metrics = (runDir: string) =>
  readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { kind: string; step: number });

beforeAll(() => ensureBuiltCli(), 300_000);

describe('sweep local', () => {
  it('completes a 4-run sweep with 2 workers; a failing run is isolated and listed with its error', async () => {
    const emptyDataDir = mkdtempSync(path.join(scratch, 'fisherlab-no-data-'));
    const { dir, plan: planned } = plan('pool', {
      base: { ...tinyBase, steps: 12 },
      variants: [
        { 'optimizer.lr': 0.1, 'penalty.kind': 'none' },
        { 'optimizer.lr': 0.1, 'penalty.kind': 'fisher', 'penalty.alpha': 0.1 },
        // a run whose data is missing on this machine: it must fail alone
        { 'dataset.name': 'fashion-mnist', 'dataset.dir': emptyDataDir },
        { 'optimizer.lr': 0.01, 'penalty.kind': 'none' },
        { 'optimizer.lr': 0.01, 'penalty.kind': 'fisher', 'penalty.alpha': 0.1 },
      ],
    });
    const bad = 2;

    const result = await runCli(['sweep', 'local', dir, '--workers', '2']);
    expect(result.stdout).toContain('ran 5: 4 completed, 0 diverged, 1 failed, 0 interrupted');
    expect(result.stdout).toMatch(
      new RegExp(
        `Failed runs:\\n  #2 ${planned.runs[bad]!.id} [^\\n]*\\n\\s+(?:train\\(\\): )?dataset 'fashion-mnist'`,
      ),
    );
    expect(result.code).toBe(1);
    for (const run of planned.runs) {
      const m = meta(runDirOf(dir, run));
      expect(m.status).toBe(run.index === bad ? 'failed' : 'completed');
      if (run.index !== bad) expect(m.step).toBe(12);
      expect(existsSync(path.join(runDirOf(dir, run), 'run.lock'))).toBe(false); // locks released
    }
    // progress lines were parsed, not logged; the runs' own output went to their worker.log
    expect(result.stderr).not.toContain('@@fisherlab-progress');
    expect(readFileSync(path.join(runDirOf(dir, planned.runs[bad]!), 'worker.log'), 'utf8')).toContain(
      'fashion-mnist',
    );

    expect(sweepStatus(dir).summary).toEqual({ done: 4, running: 0, failed: 1, pending: 0, damaged: 0 });
    // running it again starts only the failed run (the completed ones are skipped without a worker)
    const again = await runCli(['sweep', 'local', dir, '--workers', '2']);
    expect(again.stdout).toContain('ran 1: 0 completed, 0 diverged, 1 failed, 0 interrupted; 4 not started');
  }, 400_000);

  it('SIGTERM to the pool checkpoints and stops every worker; the same command resumes them', async () => {
    // 100 steps each: long enough that neither run can finish before both have checkpointed, even on a loaded machine
    const { dir, plan: planned } = plan('interrupt', { base: { ...tinyBase, epochs: 25 }, seeds: [0, 1] });
    const runDirs = planned.runs.map((run) => runDirOf(dir, run));
    const stopped = await runCli(['sweep', 'local', dir, '--workers', '2'], {}, (child) => {
      const poll = setInterval(() => {
        if (runDirs.every((d) => existsSync(path.join(d, 'checkpoint.json')))) {
          clearInterval(poll);
          child.kill('SIGTERM');
        }
      }, 20);
      child.on('close', () => clearInterval(poll));
    });
    expect(stopped.code).toBe(130);
    expect(stopped.stdout).toContain('Interrupted: run the same command again to resume.');
    for (const d of runDirs) {
      expect(meta(d).status).toBe('interrupted');
      expect(meta(d).step).toBeLessThan(100);
    }
    expect(sweepStatus(dir).counts.interrupted).toBe(2);

    const resumed = await runCli(['sweep', 'local', dir, '--workers', '2']);
    expect(resumed.stdout).toContain('ran 2: 2 completed');
    for (const d of runDirs) {
      expect(meta(d)).toMatchObject({ status: 'completed', step: 100 });
      expect(readFileSync(path.join(d, 'worker.log'), 'utf8')).toContain('resuming from step');
      const trainSteps = metrics(d)
        .filter((r) => r.kind === 'train')
        .map((r) => r.step);
      expect(trainSteps).toEqual(Array.from({ length: 25 }, (_, i) => 4 * (i + 1)));
    }
  }, 400_000);
});

describe('sweep local, sharing and resuming', () => {
  it('two pools on one plan share it: no run trained twice, none listed as failed, both exit 0', async () => {
    const { dir, plan: planned } = plan('two-pools', {
      base: { ...tinyBase, epochs: 6 },
      seeds: [0, 1, 2, 3],
    });
    const [a, b] = await Promise.all([
      runCli(['sweep', 'local', dir, '--workers', '1']),
      runCli(['sweep', 'local', dir, '--workers', '1']),
    ]);
    for (const pool of [a, b]) {
      expect(pool.code, pool.stdout + pool.stderr).toBe(0);
      expect(pool.stdout + pool.stderr).not.toMatch(/FAILED|Failed runs:/);
    }
    for (const run of planned.runs) {
      const runDir = runDirOf(dir, run);
      expect(meta(runDir)).toMatchObject({ status: 'completed', step: 24 });
      const starts = readFileSync(path.join(runDir, 'worker.log'), 'utf8').match(/: starting$/gm) ?? [];
      expect(starts.length, `run ${run.index} started ${starts.length} times`).toBe(1);
      expect(
        metrics(runDir)
          .filter((r) => r.kind === 'train')
          .map((r) => r.step),
      ).toEqual([4, 8, 12, 16, 20, 24]);
    }
  }, 400_000);

  it("resumes a killed worker's run from its checkpoint when run again", async () => {
    const { dir, plan: planned } = plan('resume', { base: { ...tinyBase, epochs: 5 } }); // 4 steps/epoch, 20 steps
    const runDir = runDirOf(dir, planned.runs[0]!);
    // SIGKILL the worker as soon as it has written a checkpoint: no handler runs, meta.json says 'running'
    const killed = await runCli(['sweep', 'run', dir, '--index', '0'], {}, (child) => {
      const poll = setInterval(() => {
        if (existsSync(path.join(runDir, 'checkpoint.json'))) {
          clearInterval(poll);
          child.kill('SIGKILL');
        }
      }, 20);
      child.on('close', () => clearInterval(poll));
    });
    expect(killed.code).toBe(null);
    const pointer = JSON.parse(readFileSync(path.join(runDir, 'checkpoint.json'), 'utf8')) as {
      step: number;
    };
    expect(pointer.step).toBeLessThan(20);
    const status = sweepStatus(dir).runs[0]!;
    expect(status.state).toBe('interrupted');
    expect(status.detail).toMatch(/meta.json says running, but its process \(pid \d+ on this host\) is gone/);

    const resumed = await runCli(['sweep', 'run', dir, '--index', '0']);
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toContain('resuming from step');
    expect(meta(runDir)).toMatchObject({ status: 'completed', step: 20 });
    // the log was cut back to the checkpoint: every step logged once, in order
    const trainSteps = metrics(runDir)
      .filter((r) => r.kind === 'train')
      .map((r) => r.step);
    expect(trainSteps).toEqual([4, 8, 12, 16, 20]);

    const skipped = await runCli(['sweep', 'run', dir, '--index', '0']);
    expect(skipped.code).toBe(0);
    expect(skipped.stderr).toMatch(/already completed; skipped/);
  }, 400_000);
});

describe('Kubernetes Indexed Job, simulated', () => {
  it('running the manifest command for every JOB_COMPLETION_INDEX leaves a run the report reader finds for each', async () => {
    const { dir, plan: planned } = plan('k8s', {
      base: { ...tinyBase, steps: 8 },
      grid: { 'optimizer.lr': [0.1, 0.03, 0.01] },
    });
    const manifest = YAML.parse(
      kubernetesJobYaml(kubernetesJob(planned, { image: 'fisherlab:test', pvc: 'sweeps' }), planned, dir),
    );
    validateKubernetesJob(manifest);
    const container = manifest.spec.template.spec.containers[0] as {
      command: string[];
      volumeMounts: { mountPath: string }[];
    };
    const mount = container.volumeMounts[0]!.mountPath;
    // the pod's `fisherlab` is this build, and the volume mounted at /sweep is the plan directory
    const args = container.command.slice(1).map((word) => (word === mount ? dir : word));
    expect(args).toEqual(['sweep', 'run', dir]);
    for (let index = 0; index < manifest.spec.completions; index++) {
      const pod = await runCli(args, { JOB_COMPLETION_INDEX: String(index) });
      expect(pod.code, pod.stderr).toBe(0);
      expect(pod.stderr).toContain(`run index ${index} from JOB_COMPLETION_INDEX`);
    }
    const { readRuns } = await import('@fisherlab/analysis');
    const found = await readRuns(path.join(dir, 'runs'));
    expect(found.runs.map((r) => r.id).sort()).toEqual(
      readPlan(dir)
        .runs.map((r) => r.id)
        .sort(),
    );
    expect(
      found.runs.every((r) => r.status === 'completed' && r.records.some((m) => m.kind === 'fisher')),
    ).toBe(true);
    // and `fisherlab report` on the sweep directory reports every run
    const reportFile = path.join(dir, 'report.html');
    const report = await runCli(['report', dir, '--out', reportFile]);
    expect(report.code, report.stderr).toBe(0);
    expect(report.stdout).toContain(`(${planned.runs.length} runs,`);
    const html = readFileSync(reportFile, 'utf8');
    for (const run of planned.runs) expect(html).toContain(run.id);
  }, 400_000);
});
