import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConfigOptions, curveRecords, runConfig, runMeta, writeRun } from '../fixtures/runFixtures.js';
import { type RunSet, readRuns } from '../read/readRuns.js';
import { type PenaltyFamily, penaltyFamilies } from './penaltyArms.js';
import { summarizeRuns } from './runSummary.js';

let root: string;
let set: RunSet;
let families: PenaltyFamily[];
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'fisherlab-arms-'));
  const arm = async (
    dir: string,
    cfg: ConfigOptions,
    testAccuracy: number,
    status: 'completed' | 'failed' = 'completed',
  ) =>
    writeRun(path.join(root, dir), {
      config: runConfig(cfg),
      meta: runMeta(dir, status),
      records: curveRecords({ epochs: 2, traceF: () => 10, test: () => testAccuracy, train: () => 0.9 }),
    });
  await arm('lr0.1-s1', { lr: 0.1, seed: 1 }, 0.85);
  await arm('lr0.1-s2', { lr: 0.1, seed: 2 }, 0.85);
  await arm('lr0.05', { lr: 0.05 }, 0.87);
  // A failed run's accuracy must not make its lr the tuned one.
  await arm('lr0.2-failed', { lr: 0.2 }, 0.99, 'failed');
  await arm('lr0.005', { lr: 0.005 }, 0.75);
  await arm('lr0.001', { lr: 0.001 }, 0.6);
  await arm('lr0.005-fp', { lr: 0.005, penalty: 'fisher', alpha: 0.1 }, 0.8);
  await arm('lr0.005-fp2', { lr: 0.005, penalty: 'fisher', alpha: 0.01 }, 0.78);
  await arm('lr0.005-gn', { lr: 0.005, penalty: 'gradnorm', alpha: 0.1 }, 0.77);
  await arm('noisy-lr0.005', { lr: 0.005, noise: 0.2 }, 0.7);
  await arm('noisy-lr0.005-fp', { lr: 0.005, noise: 0.2, penalty: 'fisher', alpha: 0.1 }, 0.72);
  await arm('noisy-alone', { lr: 0.3, noise: 0.4 }, 0.5);
  set = await readRuns(root);
  families = penaltyFamilies(set.runs, summarizeRuns(set.tables));
});
afterAll(async () => rm(root, { recursive: true, force: true }));

describe('Figure 2 arms', () => {
  it('finds the small lr (where the penalty ran), the best unpenalized lr above it, and the penalized arms', () => {
    const clean = families.find((f) => !f.label.includes('noise'))!;
    expect(clean.arms.map((a) => [a.role, a.lr, a.alpha])).toEqual([
      ['small lr', 0.005, null],
      ['tuned lr', 0.05, null],
      ['small lr + FP', 0.005, 0.01],
      ['small lr + FP', 0.005, 0.1],
      ['small lr + GradNorm', 0.005, 0.1],
    ]);
    expect(clean.arms[2]!.label).toBe('small lr (0.005) + FP α=0.01');
  });
  it('keeps families apart and drops a family with a single arm', () => {
    expect(families).toHaveLength(2);
    const noisy = families.find((f) => f.label.includes('noise 20%'))!;
    expect(noisy.arms.map((a) => a.role)).toEqual(['small lr', 'small lr + FP']);
  });
});

describe('Figure 2 needs a penalized arm and a finished tuned lr', () => {
  it('drops a family of unpenalized lrs, and never picks an lr with no finished run as tuned', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'fisherlab-arms2-'));
    const records = curveRecords({ epochs: 1, traceF: () => 10, test: () => 0.5 });
    await writeRun(path.join(dir, 'a'), {
      config: runConfig({ lr: 0.1 }),
      meta: runMeta('a', 'completed'),
      records,
    });
    await writeRun(path.join(dir, 'b'), {
      config: runConfig({ lr: 1 }),
      meta: runMeta('b', 'failed'),
      records,
    });
    const plain = await readRuns(dir);
    expect(penaltyFamilies(plain.runs, summarizeRuns(plain.tables))).toEqual([]);
    await writeRun(path.join(dir, 'c'), {
      config: runConfig({ lr: 0.01, penalty: 'fisher', alpha: 0.1 }),
      meta: runMeta('c', 'completed'),
      records,
    });
    await writeRun(path.join(dir, 'd'), {
      config: runConfig({ lr: 0.01 }),
      meta: runMeta('d', 'completed'),
      records,
    });
    const withFp = await readRuns(dir);
    const [family] = penaltyFamilies(withFp.runs, summarizeRuns(withFp.tables));
    expect(family!.arms.map((a) => [a.role, a.lr])).toEqual([
      ['small lr', 0.01],
      ['tuned lr', 0.1],
      ['small lr + FP', 0.01],
    ]);
    await rm(dir, { recursive: true, force: true });
  });
  it('labels a family trained at one rate by that rate, not as a small lr', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'fisherlab-arms3-'));
    const records = curveRecords({ epochs: 1, traceF: () => 10, test: () => 0.5 });
    await writeRun(path.join(dir, 'noisy'), {
      config: runConfig({ lr: 0.03, noise: 0.2 }),
      meta: runMeta('noisy', 'completed'),
      records,
    });
    await writeRun(path.join(dir, 'noisy-fp'), {
      config: runConfig({ lr: 0.03, noise: 0.2, penalty: 'fisher', alpha: 0.1 }),
      meta: runMeta('noisy-fp', 'completed'),
      records,
    });
    const set = await readRuns(dir);
    const [family] = penaltyFamilies(set.runs, summarizeRuns(set.tables));
    expect(family!.arms.map((a) => a.label)).toEqual(['lr 0.03', 'lr 0.03 + FP α=0.1']);
    await rm(dir, { recursive: true, force: true });
  });
});
