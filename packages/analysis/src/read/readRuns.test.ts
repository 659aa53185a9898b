import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
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
  it('a run whose meta.json says running but whose process is gone reads as interrupted', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'fisherlab-killed-'));
    await writeRun(path.join(dir, 'live'), {
      config: runConfig(),
      meta: runMeta('live', 'running'),
      records: [],
    });
    await writeRun(path.join(dir, 'killed'), {
      config: runConfig(),
      meta: runMeta('killed', 'running'),
      records: [],
      live: false,
    });
    // a lock left by a process that no longer exists (killed with SIGKILL)
    const gone = spawnSync(process.execPath, ['-e', 'process.exit(0)']).pid!;
    await writeRun(path.join(dir, 'killed-with-lock'), {
      config: runConfig(),
      meta: runMeta('killed-with-lock', 'running'),
      records: [],
      live: false,
    });
    await writeFile(
      path.join(dir, 'killed-with-lock', 'run.lock'),
      JSON.stringify({
        host: os.hostname(),
        pid: gone,
        purpose: 'fisherlab train',
        token: 'x',
        startedAt: '2026-01-01T00:00:00Z',
        heartbeatAt: '2026-01-01T00:00:00Z',
      }),
    );
    const set = await readRuns(dir);
    const byId = Object.fromEntries(set.runs.map((r) => [r.id, r]));
    expect(byId['live']?.status).toBe('running');
    expect(byId['killed']?.status).toBe('interrupted');
    expect(byId['killed']?.statusDetail).toMatch(
      /meta\.json says running, but no process holds the run \(killed\?\)/,
    );
    expect(byId['killed-with-lock']?.status).toBe('interrupted');
    expect(byId['killed-with-lock']?.statusDetail).toMatch(
      new RegExp(`its process \\(pid ${gone} on this host\\) is gone`),
    );
    await rm(dir, { recursive: true, force: true });
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
    const set = await readRuns(dir);
    expect(set.runs).toEqual([]);
    expect(set.skipped[0]?.reason).toMatch(/metrics\.jsonl:2: expected one JSON object per line.*Fix:/);
    expect(set.notes.join('\n')).toMatch(/was left out: .*metrics\.jsonl:2/);
    await rm(dir, { recursive: true, force: true });
  });
  it('a config key of the wrong type', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'fisherlab-bad-'));
    await writeRun(dir, { config: { ...runConfig(), optimizer: { name: 'sgd', lr: '0.1' } }, records: [] });
    expect((await readRuns(dir)).skipped[0]?.reason).toMatch(
      /config\.json: key "optimizer\.lr": expected a number.*found "0\.1"/,
    );
    await rm(dir, { recursive: true, force: true });
  });
  it('one bad run among good ones is left out with a note; the others are read', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'fisherlab-bad-'));
    await writeRun(path.join(dir, 'good'), {
      config: runConfig(),
      meta: runMeta('good', 'completed'),
      records: [],
    });
    await mkdir(path.join(dir, 'bad'));
    await writeFile(path.join(dir, 'bad', 'meta.json'), '{"id": "bad", "status": ');
    const set = await readRuns(dir);
    expect(set.runs.map((r) => r.id)).toEqual(['good']);
    expect(set.skipped).toEqual([
      { dir: path.join(dir, 'bad'), reason: expect.stringMatching(/bad\/meta\.json: expected valid JSON/) },
    ]);
    await rm(dir, { recursive: true, force: true });
  });
  it('a meta.json that is JSON but not a run record (storage judges it damaged) is left out, naming it', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'fisherlab-bad-'));
    await writeRun(dir, {
      config: runConfig(),
      meta: { ...runMeta('odd', 'completed'), status: 'finished' } as never,
      records: [],
    });
    const set = await readRuns(dir);
    expect(set.runs).toEqual([]);
    expect(set.skipped[0]?.reason).toMatch(
      /meta\.json: its status is "finished", not one of .*Fix: repair or delete the file/,
    );
    await rm(dir, { recursive: true, force: true });
  });
  it('a root that does not exist', async () => {
    await expect(readRuns('/nonexistent/fisherlab-runs')).rejects.toThrow(/found nothing there\. Fix:/);
  });
});
