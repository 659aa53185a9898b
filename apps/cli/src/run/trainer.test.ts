import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseRunConfig } from '../config/load.js';
import { readMetrics } from './metrics-log.js';
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
