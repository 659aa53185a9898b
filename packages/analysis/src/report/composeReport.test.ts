import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { curveRecords, runConfig, runMeta, writeRun } from '../fixtures/runFixtures.js';
import { readRuns } from '../read/readRuns.js';
import { composeReport } from './buildReport.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'fisherlab-compose-'));
  // Tr(F) = 10·(1 + epoch): the early max is 10·(1 + E).
  const records = curveRecords({ epochs: 4, traceF: (e) => 10 * (1 + e), test: () => 0.5 });
  const write = (dir: string, earlyEpochs: number | undefined, lr: number) =>
    writeRun(path.join(root, dir), {
      config: { ...runConfig({ lr }), ...(earlyEpochs === undefined ? {} : { tracking: { earlyEpochs } }) },
      meta: runMeta(dir, 'completed'),
      records,
    });
  await write('agree/a', 1, 0.1);
  await write('agree/b', 1, 0.2);
  await write('differ/a', 1, 0.1);
  await write('differ/b', 3, 0.2);
});
afterAll(async () => rm(root, { recursive: true, force: true }));

describe('the early-phase window', () => {
  it("follows the runs' tracking.earlyEpochs when they agree", async () => {
    const c = composeReport(await readRuns(path.join(root, 'agree')));
    expect(c.earlyEpochs).toBe(1);
    expect(c.summary.map((r) => r.earlyMaxTraceF)).toEqual([20, 20]);
  });
  it('falls back to the default when they differ, and an explicit value wins', async () => {
    const set = await readRuns(path.join(root, 'differ'));
    expect(composeReport(set).earlyEpochs).toBe(2);
    expect(composeReport(set).summary[0]!.earlyMaxTraceF).toBe(30);
    expect(composeReport(set, { earlyEpochs: 0.5 }).summary[0]!.earlyMaxTraceF).toBe(15);
    expect(() => composeReport(set, { earlyEpochs: 0 })).toThrow(
      /earlyEpochs: expected a number of epochs above 0, found 0/,
    );
  });
  it("scales the window with each run's learning rate when given a reference rate", async () => {
    // lr 0.1 and 0.2 with a window of 1 epoch at lr 0.2: the lr-0.1 run's window is 2 epochs.
    const set = await readRuns(path.join(root, 'agree'));
    const c = composeReport(set, { earlyWindow: { epochs: 1, referenceLr: 0.2 } });
    const byLr = new Map(c.summary.map((r) => [r.earlyEpochs, r.earlyMaxTraceF]));
    expect(byLr.get(2)).toBe(30);
    expect(byLr.get(1)).toBe(20);
    expect(c.earlyWindow).toEqual({ epochs: 1, referenceLr: 0.2 });
  });
});
