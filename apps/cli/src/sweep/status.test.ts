import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { planSweep, runDirOf, writePlan } from './plan.js';
import { claimRun, readRunState, WORKER_FILE } from './run-state.js';
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
    write(4, { 'meta.json': meta('running'), [WORKER_FILE]: claim(os.hostname(), process.pid, 0) }); // alive: this process
    write(5, { 'meta.json': meta('running'), [WORKER_FILE]: claim(os.hostname(), deadPid(), 0) }); // killed worker
    write(6, { 'meta.json': meta('running'), [WORKER_FILE]: claim('node-17', 42, 60_000) }); // other host, fresh heartbeat
    write(7, { 'meta.json': meta('running'), [WORKER_FILE]: claim('node-17', 42, 3_600_000) }); // other host, silent for 1 h
    // run 8: never started

    const report = sweepStatus(dir);
    expect(report.summary).toEqual({ done: 2, running: 2, failed: 1, pending: 4 });
    expect(report.counts).toEqual({
      completed: 1,
      diverged: 1,
      running: 2,
      failed: 1,
      interrupted: 1,
      stale: 2,
      pending: 1,
    });
    const state = (i: number) => report.runs[i]!;
    expect(state(1).detail).toBe('loss became NaN at step 7 (step 7)');
    expect(state(4).detail).toMatch(/pid \d+ on this host is alive/);
    expect(state(5)).toMatchObject({ state: 'stale', step: 3 });
    expect(state(5).detail).toMatch(/meta.json says running but its worker \(pid \d+ on this host\) is gone/);
    expect(state(6).detail).toMatch(/host node-17 pid 42, heartbeat 1.0 min ago/);
    expect(state(7).detail).toMatch(/no heartbeat from host node-17 \(pid 42\) for 60.0 min/);
    const text = formatSweepStatus(report);
    expect(text).toContain(
      'done 2 (completed 1, diverged 1)  running 2  failed 1  pending 4 (not started 1, interrupted 1, stale 2)',
    );
    expect(text).toContain('out of memory');
    // a shorter staleness threshold turns the 1-minute-old heartbeat stale as well
    expect(sweepStatus(dir, { staleAfterMs: 30_000 }).counts.stale).toBe(3);
  });

  it('a claim is exclusive while its worker lives, and taken over once it is gone', () => {
    const runDir = mkdtempSync(path.join(scratch, 'fisherlab-claim-'));
    const mine = claimRun(runDir);
    expect(readRunState(runDir).state).toBe('running');
    expect(() => claimRun(runDir)).toThrow(
      /is being run by another worker \(pid \d+ on this host is alive.*pass --force/,
    );
    mine.release();
    expect(readRunState(runDir).state).toBe('pending');

    writeFileSync(path.join(runDir, WORKER_FILE), claim(os.hostname(), deadPid(), 0));
    expect(readRunState(runDir)).toMatchObject({ state: 'stale' });
    const takeover = claimRun(runDir);
    expect(readRunState(runDir).state).toBe('running');
    takeover.release();
  });

  it("under an engine's index, another host's fresh claim is an earlier attempt and is taken over", () => {
    const runDir = mkdtempSync(path.join(scratch, 'fisherlab-claim-'));
    writeFileSync(path.join(runDir, WORKER_FILE), claim('pod-abc-0', 7, 5_000)); // killed 5 s ago, heartbeat fresh
    expect(() => claimRun(runDir)).toThrow(
      /being run by another worker \(host pod-abc-0 pid 7, heartbeat 0.1 min ago/,
    );
    const retry = claimRun(runDir, { takeOverOtherHosts: true });
    expect(readRunState(runDir).claim).toMatchObject({ host: os.hostname(), pid: process.pid });
    // a live worker on this very host still refuses, engine or not
    expect(() => claimRun(runDir, { takeOverOtherHosts: true })).toThrow(/on this host is alive/);
    retry.release();
  });
});
