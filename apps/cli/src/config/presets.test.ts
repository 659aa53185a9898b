import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { mergeConfig, parseRunConfig, readMetrics } from '@fisherlab/training';
import { afterAll, describe, expect, it } from 'vitest';
import { trainRun } from '../run/trainer.js';
import { loadPreset } from './presets.js';

/** The datasets package's own test fixture writers (files in the exact published formats), loaded by path. */
interface FixtureWriters {
  writeCifar10(dir: string, perBatch: number, testCount: number): Promise<void>;
  writeCifar100(dir: string, trainCount: number, testCount: number): Promise<void>;
  writeTinyImageNet(dir: string, classes: number, perClass: number): Promise<unknown>;
}
const fixturesModule = new URL('../../../../packages/datasets/src/fixtures/write.ts', import.meta.url).href;
const { writeCifar10, writeCifar100, writeTinyImageNet } = (await import(fixturesModule)) as FixtureWriters;

const root = mkdtempSync(path.join(tmpdir(), 'fisherlab-presets-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const quiet = { update() {}, log() {}, done() {} };

const FIXTURES: Record<string, (dir: string) => Promise<unknown>> = {
  'fig1-wrn-tinyimagenet': (dir) => writeTinyImageNet(dir, 3, 2),
  'fig2-vgg11-cifar100': (dir) => writeCifar100(dir, 8, 4),
  'fig3-vgg11-cifar100-noisy': (dir) => writeCifar100(dir, 10, 4),
  'simplecnn-cifar10': (dir) => writeCifar10(dir, 2, 4),
};

describe('the paper presets', () => {
  it.each(Object.keys(FIXTURES))('%s trains one step on fixture data in its dataset format', async (name) => {
    const dataDir = path.join(root, `${name}-data`);
    await FIXTURES[name]!(dataDir);
    const raw = mergeConfig(loadPreset(name), {
      dataset: { dir: dataDir },
      // a batch of 4 is no place for the papers' learning rates: the step checks wiring, not dynamics
      optimizer: { lr: 0.001 },
      batchSize: 4,
      steps: 1,
      backend: 'wasm',
      tracking: { subset: 4, earlyEvery: 1 },
      output: path.join(root, name),
    });
    delete raw['epochs'];
    const config = parseRunConfig(raw, name);
    const outcome = await trainRun(config, { progress: quiet, handleSignals: false });
    expect(outcome.status, outcome.error?.message).toBe('completed');
    const records = readMetrics(path.join(outcome.runDir, 'metrics.jsonl'));
    const train = records.find((r) => r.kind === 'train');
    expect(train && Number.isFinite(train.loss)).toBe(true);
    expect(records.some((r) => r.kind === 'fisher')).toBe(true);
  });
});
