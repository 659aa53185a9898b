import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { planSweep, runDirOf, writePlan } from './plan.js';
import { readRunState } from './run-state.js';

const LOCK_FILE = 'run.lock';
const claimRun = (runDir: string, options: { takeOverOtherHosts?: boolean } = {}) =>
  lockRun(runDir, { purpose: 'fisherlab sweep run', ...options });

import { lockRun } from '@fisherlab/training';
import { runLocalPool } from './local-pool.js';
import { runPlannedRun } from './runner.js';
import { parseSweep } from './spec.js';
import { formatSweepStatus, sweepStatus } from './status.js';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'fisherlab-status-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A pid that certainly belonged to a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(child.stdout.toString());
}

function plannedSweep(runs: number) {
  const dir = mkdtempSync(path.join(scratch, 'fisherlab-status-'));
  const plan = planSweep(
    parseSweep({ name: 'status', base: { optimizer: { lr: 0.1 }, steps: 2 }, seeds: { count: runs } }, ''),
  );
  writePlan(dir, plan);
  return { dir, plan };
}

const meta = (status: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    id: 'x',
    name: 'x',
    status,
    startedAt: new Date().toISOString(),
    backend: 'cpu',
    versions: {},
    step: 3,
    ...extra,
  });

const claim = (host: string, pid: number, heartbeatAgoMs: number) =>
  JSON.stringify({
    host,
    pid,
    purpose: 'fisherlab sweep run',
    token: `${host}-${pid}`,
    startedAt: new Date(0).toISOString(),
    heartbeatAt: new Date(Date.now() - heartbeatAgoMs).toISOString(),
  });

describe('sweep status', () => {
  it('counts done/running/failed/pending from the run records, telling live workers from gone ones', () => {
    const { dir, plan } = plannedSweep(9);
    const write = (i: number, files: Record<string, string>) => {
      const runDir = runDirOf(dir, plan.runs[i]!);
      mkdirSync(runDir, { recursive: true });
      for (const [name, text] of Object.entries(files)) writeFileSync(path.join(runDir, name), text);
    };
    write(0, { 'meta.json': meta('completed') });
    write(1, { 'meta.json': meta('diverged', { error: { message: 'loss became NaN at step 7', step: 7 } }) });
    write(2, { 'meta.json': meta('failed', { error: { message: 'out of memory' } }) });
    write(3, { 'meta.json': meta('interrupted') });
    write(4, { 'meta.json': meta('running'), [LOCK_FILE]: claim(os.hostname(), process.pid, 0) }); // alive: this process
    write(5, { 'meta.json': meta('running'), [LOCK_FILE]: claim(os.hostname(), deadPid(), 0) }); // killed worker
    write(6, { 'meta.json': meta('running'), [LOCK_FILE]: claim('node-17', 42, 60_000) }); // other host, fresh heartbeat
    write(7, { 'meta.json': meta('running'), [LOCK_FILE]: claim('node-17', 42, 3_600_000) }); // other host, silent for 1 h
    // run 8: never started

    const report = sweepStatus(dir);
    expect(report.summary).toEqual({ done: 2, running: 2, failed: 1, pending: 4, damaged: 0 });
    expect(report.counts).toEqual({
      completed: 1,
      diverged: 1,
      running: 2,
      failed: 1,
      interrupted: 3,
      pending: 1,
      damaged: 0,
    });
    const state = (i: number) => report.runs[i]!;
    expect(state(1).detail).toBe('loss became NaN at step 7 (step 7)');
    expect(state(4).detail).toMatch(/pid \d+ on this host is alive/);
    expect(state(5)).toMatchObject({ state: 'interrupted', step: 3 });
    expect(state(5).detail).toMatch(
      /meta.json says running, but its process \(pid \d+ on this host\) is gone \(killed\?\)/,
    );
    expect(state(6).detail).toMatch(/host node-17 pid 42, heartbeat 1.0 min ago/);
    expect(state(7).detail).toMatch(/no heartbeat from host node-17 \(pid 42\) for 60.0 min/);
    const text = formatSweepStatus(report);
    expect(text).toContain(
      'done 2 (completed 1, diverged 1)  running 2  failed 1  pending 4 (not started 1, interrupted 3)',
    );
    expect(text).toContain('out of memory');
    // a shorter staleness threshold turns the 1-minute-old heartbeat stale as well
    expect(sweepStatus(dir, { staleAfterMs: 30_000 }).counts.interrupted).toBe(4);
  });
});

describe('sweep status: damaged records, thresholds', () => {
  it('reports a run whose meta.json or config.json cannot be read as damaged, naming the file and why', async () => {
    const { dir, plan } = plannedSweep(4);
    const runDir = (i: number) => runDirOf(dir, plan.runs[i]!);
    const write = (i: number, name: string, text: string) => {
      mkdirSync(runDir(i), { recursive: true });
      writeFileSync(path.join(runDir(i), name), text);
    };
    write(0, 'meta.json', meta('completed').slice(0, 40)); // a completed run, its meta.json cut short
    write(1, 'meta.json', JSON.stringify({ id: 'x', status: 'finished' }));
    write(2, 'meta.json', meta('completed'));
    write(2, 'config.json', '{"optimizer": {"lr": 0.1');
    write(3, 'meta.json', meta('completed'));

    const report = sweepStatus(dir);
    expect(report.summary).toEqual({ done: 1, running: 0, failed: 0, pending: 0, damaged: 3 });
    expect(report.runs[0]).toMatchObject({
      state: 'damaged',
      damaged: { file: path.join(runDir(0), 'meta.json'), reason: expect.stringMatching(/^not valid JSON/) },
    });
    expect(report.runs[1]!.damaged).toEqual({
      file: path.join(runDir(1), 'meta.json'),
      reason: 'its status "finished" is not one of running, completed, diverged, failed, interrupted',
    });
    expect(report.runs[2]!.damaged?.file).toBe(path.join(runDir(2), 'config.json'));
    const text = formatSweepStatus(report);
    expect(text).toContain('DAMAGED 3');
    expect(text).toContain(`${path.join(runDir(0), 'meta.json')}: not valid JSON`);

    // the runner refuses it (exit 2 in the CLI) and changes nothing; the pool does not start it
    const before = readFileSync(path.join(runDir(0), 'meta.json'), 'utf8');
    await expect(runPlannedRun(dir, 0)).rejects.toThrow(/meta\.json: not valid JSON.*restore it/);
    expect(readFileSync(path.join(runDir(0), 'meta.json'), 'utf8')).toBe(before);
    const pool = await runLocalPool(dir, { workers: 1, indices: [0, 1], workerCommand: ['false'] });
    expect(pool.results).toEqual([]);
    expect(pool.skipped.map((s) => s.reason)).toEqual([
      expect.stringMatching(/^damaged: .*meta\.json: not valid JSON/),
      expect.stringMatching(/^damaged: .*meta\.json: its status "finished" is not one of/),
    ]);
  });

  it('refuses a stale-after that would make every live worker look gone', () => {
    const { dir } = plannedSweep(1);
    for (const staleAfterMs of [-300_000, 0, Number.NaN]) {
      expect(() => sweepStatus(dir, { staleAfterMs })).toThrow(/stale-after must be a positive duration/);
    }
  });
});

describe('run records and claims', () => {
  it('reads the real step from metrics.jsonl while meta.json still says the step the run started at', () => {
    const runDir = mkdtempSync(path.join(scratch, 'fisherlab-step-'));
    writeFileSync(path.join(runDir, 'meta.json'), meta('running', { step: 0 }));
    const lines = [4, 8, 24].map((step) => JSON.stringify({ kind: 'train', step, epoch: step / 8 }));
    writeFileSync(path.join(runDir, 'metrics.jsonl'), `${lines.join('\n')}\n{"kind":"train","st`);
    const lock = claimRun(runDir);
    expect(readRunState(runDir)).toMatchObject({ state: 'running', step: 24 });
    lock.release();
  });

  it('a claim is exclusive while its worker lives, and taken over once it is gone', () => {
    const runDir = mkdtempSync(path.join(scratch, 'fisherlab-claim-'));
    const mine = claimRun(runDir);
    expect(readRunState(runDir).state).toBe('running');
    expect(() => claimRun(runDir)).toThrow(
      /is in use by fisherlab sweep run in this process \(pid \d+ on this host is alive.*wait for that call to finish/,
    );
    mine.release();
    expect(readRunState(runDir).state).toBe('pending');

    writeFileSync(path.join(runDir, LOCK_FILE), claim(os.hostname(), deadPid(), 0));
    expect(readRunState(runDir)).toMatchObject({ state: 'interrupted' });
    const takeover = claimRun(runDir);
    expect(readRunState(runDir).state).toBe('running');
    takeover.release();
  });

  it("under an engine's index, another host's fresh claim is an earlier attempt and is taken over", () => {
    const runDir = mkdtempSync(path.join(scratch, 'fisherlab-claim-'));
    writeFileSync(path.join(runDir, LOCK_FILE), claim('pod-abc-0', 7, 5_000)); // killed 5 s ago, heartbeat fresh
    expect(() => claimRun(runDir)).toThrow(
      /in use by another process: fisherlab sweep run, host pod-abc-0 pid 7, heartbeat 0.1 min ago/,
    );
    const retry = claimRun(runDir, { takeOverOtherHosts: true });
    expect(readRunState(runDir).holder).toMatchObject({ host: os.hostname(), pid: process.pid });
    // a live worker on this very host still refuses, engine or not
    expect(() => claimRun(runDir, { takeOverOtherHosts: true })).toThrow(
      /is in use by fisherlab sweep run in this process \(pid \d+ on this host is alive.*wait for that call to finish/,
    );
    retry.release();
  });
});
