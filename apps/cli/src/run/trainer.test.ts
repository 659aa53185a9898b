import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { composeReport, readRuns } from '@fisherlab/analysis';
import { parseRunConfig, readMetrics } from '@fisherlab/training';
import { afterAll, describe, expect, it } from 'vitest';
import { trainRun } from './trainer.js';

const root = mkdtempSync(path.join(tmpdir(), 'fisherlab-train-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const quiet = { update() {}, log() {}, done() {} };

const tinyConfig = (name: string, extra: Record<string, unknown> = {}) =>
  parseRunConfig({
    name,
    dataset: { trainSubset: 200, testSubset: 100, noise: { fraction: 0.2 } },
    model: { arch: 'mlp', options: { hiddenUnits: [32] } },
    optimizer: { lr: 0.05, momentum: 0.9 },
    batchSize: 50,
    epochs: 2,
    penalty: { kind: 'fisher', alpha: 0.1 },
    tracking: {
      subset: 64,
      every: 2,
      earlyEpochs: 1,
      earlyEvery: 1,
      curvatureEveryEpochs: 1,
      curvatureSubset: 32,
    },
    logEvery: 2,
    backend: 'wasm',
    output: path.join(root, name),
    ...extra,
  });

describe('trainRun', () => {
  it('trains a tiny model with the Fisher penalty and writes well-formed records', async () => {
    const outcome = await trainRun(tinyConfig('e2e'), { progress: quiet, handleSignals: false });
    expect(outcome.status).toBe('completed');
    const records = readMetrics(path.join(outcome.runDir, 'metrics.jsonl'));
    const steps = records.map((r) => r.step);
    expect(steps).toEqual([...steps].sort((a, b) => a - b));
    for (const r of records)
      for (const v of Object.values(r)) if (typeof v === 'number') expect(Number.isFinite(v)).toBe(true);
    const evals = records.filter((r) => r.kind === 'eval');
    expect(evals.length).toBe(3);
    expect(evals.at(-1)).toMatchObject({
      trainCleanAccuracy: expect.any(Number),
      trainNoisyAccuracy: expect.any(Number),
    });
    expect(records.filter((r) => r.kind === 'fisher').length).toBeGreaterThan(3);
    const curvature = records.filter((r) => r.kind === 'curvature');
    expect(curvature.length).toBe(2);
    for (const c of curvature)
      expect(c).toMatchObject({ traceH: expect.any(Number), topEigenvalue: expect.any(Number) });
    expect(
      records.filter((r) => r.kind === 'train').every((r) => r.kind === 'train' && r.penalty !== null),
    ).toBe(true);
    const meta = JSON.parse(readFileSync(path.join(outcome.runDir, 'meta.json'), 'utf8'));
    expect(meta.status).toBe('completed');
  });
});

/** Metrics without wall-clock fields, for line-by-line comparison. */
const comparable = (file: string) => readMetrics(file).map(({ time: _time, ...rest }) => rest);

describe('resume', () => {
  it('an interrupted and resumed run logs exactly what an uninterrupted run logs', async () => {
    const straight = await trainRun(
      tinyConfig('straight', { penalty: { kind: 'fisher', alpha: 0.1, every: 2 } }),
      {
        progress: quiet,
        handleSignals: false,
      },
    );
    const config = tinyConfig('resumed', { penalty: { kind: 'fisher', alpha: 0.1, every: 2 } });
    const first = await trainRun(config, { progress: quiet, handleSignals: false, stopAfterSteps: 3 });
    expect(first.status).toBe('interrupted');
    expect(first.steps).toBe(3);
    const second = await trainRun(config, {
      progress: quiet,
      handleSignals: false,
      resume: true,
      stopAfterSteps: 4,
    });
    expect(second.status).toBe('interrupted');
    const third = await trainRun(config, { progress: quiet, handleSignals: false, resume: true });
    expect(third.status).toBe('completed');
    const expected = comparable(path.join(straight.runDir, 'metrics.jsonl'));
    const actual = comparable(path.join(third.runDir, 'metrics.jsonl'));
    expect(actual).toEqual(expected);
  });
});

describe('reliability', () => {
  it('an absurd learning rate ends the run as diverged, naming the step and quantity, keeping the last good checkpoint', async () => {
    // A rate this high trains for over an epoch (checkpointed at step 4, 8, ...) before the loss blows up.
    const absurd = tinyConfig('diverge', {
      penalty: { kind: 'none' },
      epochs: 3,
      tracking: { subset: 0 },
      optimizer: { lr: 100, momentum: 0.9 },
    });
    const outcome = await trainRun(absurd, { progress: quiet, handleSignals: false });
    expect(outcome.status).toBe('diverged');
    expect(outcome.exitCode).toBe(3);
    expect(outcome.error?.quantity).toMatch(/loss|gradient|Tr\(F\)/);
    const divergedAt = outcome.error!.step!;
    expect(divergedAt).toBeGreaterThan(4);
    const meta = JSON.parse(readFileSync(path.join(outcome.runDir, 'meta.json'), 'utf8'));
    expect(meta).toMatchObject({
      status: 'diverged',
      error: { quantity: outcome.error?.quantity, step: outcome.error?.step },
    });
    const lastEpochEnd = Math.floor((divergedAt - 1) / 4) * 4;
    expect(JSON.parse(readFileSync(path.join(outcome.runDir, 'checkpoint.json'), 'utf8')).step).toBe(
      lastEpochEnd,
    );
    const { notes, summary } = composeReport(await readRuns(outcome.runDir));
    expect(summary[0]?.status).toBe('diverged');
    expect(notes.join('\n')).toMatch(/diverge/);
    for (const r of readMetrics(path.join(outcome.runDir, 'metrics.jsonl'))) {
      for (const v of Object.values(r)) if (typeof v === 'number') expect(Number.isFinite(v)).toBe(true);
    }
  });

  it('the same config and seed give identical metrics; another seed does not', async () => {
    const a = await trainRun(tinyConfig('det-a', { epochs: 1 }), { progress: quiet, handleSignals: false });
    const b = await trainRun(tinyConfig('det-b', { epochs: 1 }), { progress: quiet, handleSignals: false });
    const c = await trainRun(tinyConfig('det-c', { epochs: 1, seed: 1 }), {
      progress: quiet,
      handleSignals: false,
    });
    const metrics = (run: { runDir: string }) => comparable(path.join(run.runDir, 'metrics.jsonl'));
    expect(metrics(b)).toEqual(metrics(a));
    expect(metrics(c)).not.toEqual(metrics(a));
  });

  it('leaks no tensors: as many live tensors after step 100 as after step 10 (penalty and Tr(F) tracking on)', async () => {
    const counts = new Map<number, number>();
    const { tf } = await import('@fisherlab/engine');
    const config = tinyConfig('leaks', {
      epochs: undefined,
      steps: 100,
      tracking: { subset: 32, every: 5, earlyEpochs: 1, earlyEvery: 2 },
    });
    await trainRun(config, {
      progress: quiet,
      handleSignals: false,
      onStep: (step) => counts.set(step, tf.memory().numTensors),
    });
    expect(counts.get(100)).toBe(counts.get(10));
  });

  it('refuses to resume with a config that builds another architecture', async () => {
    const config = tinyConfig('arch-change', { epochs: 1 });
    await trainRun(config, { progress: quiet, handleSignals: false });
    // the resume policy refuses the change before any checkpoint is read
    const other = { ...config, model: { arch: 'mlp', options: { hiddenUnits: [16] } } };
    await expect(trainRun(other, { progress: quiet, handleSignals: false, resume: true })).rejects.toThrow(
      /cannot resume .*arch-change with changed settings: model\.options\.hiddenUnits \[32\] → \[16\]/,
    );
  });

  it('refuses to overwrite a finished run', async () => {
    const config = tinyConfig('no-overwrite', { epochs: 1 });
    await trainRun(config, { progress: quiet, handleSignals: false });
    const before = readFileSync(path.join(config.output, 'metrics.jsonl'), 'utf8');
    await expect(trainRun(config, { progress: quiet, handleSignals: false })).rejects.toThrow(
      /holds a completed run; choose another --output \(a finished run is never overwritten unless you pass --overwrite\)/,
    );
    expect(readFileSync(path.join(config.output, 'metrics.jsonl'), 'utf8')).toBe(before);
  });
});
