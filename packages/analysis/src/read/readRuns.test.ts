import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { curveRecords, runConfig, runMeta, writeRun } from '../fixtures/runFixtures.js';
import { readRuns } from './readRuns.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'fisherlab-read-'));
  const records = curveRecords({ epochs: 2, traceF: (e) => 10 + e, test: () => 0.8, train: () => 0.9 });
  await writeRun(path.join(root, 'sweep/lr0.1/seed1'), {
    config: runConfig({ seed: 1 }),
    meta: runMeta('a1', 'completed'),
    records,
  });
  await writeRun(path.join(root, 'sweep/lr0.1/seed2'), {
    config: runConfig({ seed: 2, name: 'other' }),
    meta: runMeta('a2', 'completed'),
    records,
  });
  await writeRun(path.join(root, 'sweep/lr0.005/seed1'), {
    config: runConfig({ lr: 0.005 }),
    meta: null,
    records: records.slice(0, 3),
    partialTail: '{"kind":"eval","step":200,"epo',
  });
  await writeRun(path.join(root, 'crashed'), {
    config: runConfig({ lr: 0.5 }),
    meta: runMeta('boom', 'diverged', {
      error: { message: 'Tr(F) is not finite', step: 120, quantity: 'traceF' },
    }),
    records: [
      {
        kind: 'fisher',
        step: 0,
        epoch: 0,
        time: 0,
        estimator: 'minibatch',
        traceF: null as unknown as number,
        traceFStdErr: 0,
        examples: 8,
      },
    ],
  });
});
afterAll(async () => rm(root, { recursive: true, force: true }));

describe('readRuns', () => {
  it('finds runs at any depth and groups seeds together', async () => {
    const set = await readRuns(root);
    expect(set.runs.map((r) => r.id).sort()).toEqual(['a1', 'a2', 'boom', 'sweep/lr0.005/seed1']);
    const a1 = set.runs.find((r) => r.id === 'a1')!;
    const a2 = set.runs.find((r) => r.id === 'a2')!;
    expect(a1.groupKey).toBe(a2.groupKey);
    expect(a1.group).toBe('lr=0.1');
    expect(set.tables.runs.numRows()).toBe(4);
    expect(set.tables.fisher.numRows()).toBe(5 + 5 + 3 + 1);
    expect(set.tables.evals.numRows()).toBe(2 + 2 + 0);
  });
  it('skips and reports a cut-off last line, and a missing meta.json', async () => {
    const set = await readRuns(root);
    const run = set.runs.find((r) => r.id === 'sweep/lr0.005/seed1')!;
    expect(run.status).toBe('unknown');
    expect(run.records).toHaveLength(3);
    expect(set.notes.join('\n')).toMatch(
      /sweep\/lr0\.005\/seed1: the last line of metrics\.jsonl was cut off/,
    );
    expect(set.notes.join('\n')).toMatch(/sweep\/lr0\.005\/seed1: no meta\.json/);
  });
  it('keeps the failure reason of a diverged run and turns non-finite values into nulls', async () => {
    const set = await readRuns(root);
    const boom = set.runs.find((r) => r.id === 'boom')!;
    expect(boom.status).toBe('diverged');
    expect(boom.statusDetail).toBe('Tr(F) is not finite at step 120 in traceF');
    const row = (set.tables.fisher.objects() as { runId: string; traceF: number | null }[]).find(
      (r) => r.runId === 'boom',
    );
    expect(row?.traceF).toBeNull();
  });
  it('groups by run name when asked, labelling each group by that name', async () => {
    const set = await readRuns(path.join(root, 'sweep'), { groupBy: 'name' });
    const byId = new Map(set.runs.map((r) => [r.id, r.group]));
    // a1 and a2 share a config but not a name; the run without meta.json is named by its config.
    expect(byId.get('a1')).toBe('a1');
    expect(byId.get('a2')).toBe('a2');
    expect(set.runs.find((r) => r.meta === null)!.group).toBe('run');
  });
  it('accepts a single run directory as the root', async () => {
    const set = await readRuns(path.join(root, 'crashed'));
    expect(set.runs.map((r) => r.id)).toEqual(['boom']);
  });
});

describe('readRuns errors name the file, the expectation and the fix', () => {
  it('a malformed line that is not the last one', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'fisherlab-bad-'));
    await writeFile(
      path.join(dir, 'metrics.jsonl'),
      '{"kind":"train","step":1,"epoch":0.1}\nnot json\n{"kind":"train","step":2,"epoch":0.2}\n',
    );
    await expect(readRuns(dir)).rejects.toThrow(/metrics\.jsonl:2: expected one JSON object per line.*Fix:/);
    await rm(dir, { recursive: true, force: true });
  });
  it('a config key of the wrong type', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'fisherlab-bad-'));
    await writeRun(dir, { config: { ...runConfig(), optimizer: { name: 'sgd', lr: '0.1' } }, records: [] });
    await expect(readRuns(dir)).rejects.toThrow(
      /config\.json: key "optimizer\.lr": expected a number.*found "0\.1"/,
    );
    await rm(dir, { recursive: true, force: true });
  });
  it('a root that does not exist', async () => {
    await expect(readRuns('/nonexistent/fisherlab-runs')).rejects.toThrow(/found nothing there\. Fix:/);
  });
});
