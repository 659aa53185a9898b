import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { acquireLock, runLockFile } from './lock.js';
import { runFile } from './run-files.js';
import { readRunState } from './run-state.js';

const root = mkdtempSync(path.join(tmpdir(), 'fisherlab-run-state-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let count = 0;
/** A run directory holding the given files (name → content). */
function runDir(files: Record<string, string>): string {
  const dir = path.join(root, `run-${count++}`);
  mkdirSync(dir);
  for (const [name, content] of Object.entries(files)) writeFileSync(path.join(dir, name), content);
  return dir;
}

const meta = (status: string, extra: object = {}) =>
  JSON.stringify({
    id: 'r',
    name: 'r',
    status,
    startedAt: '2026-01-01T00:00:00Z',
    backend: 'cpu',
    versions: {},
    ...extra,
  });
const metrics =
  '{"kind":"train","step":2,"epoch":0.5,"time":1}\n{"kind":"eval","step":4,"epoch":1,"time":2}\n';

describe('readRunState', () => {
  it('a directory with nothing written is pending; a missing one too', () => {
    expect(readRunState(runDir({}))).toEqual({ state: 'pending' });
    expect(readRunState(path.join(root, 'never-made'))).toEqual({ state: 'pending' });
  });

  it('reads completed, failed and diverged from meta.json, with the last step and the error', () => {
    const done = runDir({
      'meta.json': meta('completed', { step: 4 }),
      'config.json': '{}',
      'metrics.jsonl': metrics,
    });
    expect(readRunState(done)).toEqual({ state: 'completed', step: 4 });
    const failed = runDir({ 'meta.json': meta('failed', { error: { message: 'no data', step: 0 } }) });
    expect(readRunState(failed)).toMatchObject({ state: 'failed', detail: 'no data (step 0)' });
  });

  it('a completed run with a garbled meta.json is damaged, naming the file, not pending', () => {
    const dir = runDir({ 'meta.json': '{"status": "compl', 'config.json': '{}', 'metrics.jsonl': metrics });
    const state = readRunState(dir);
    expect(state.state).toBe('damaged');
    expect(state.damaged).toEqual({
      file: runFile(dir, 'meta'),
      reason: expect.stringMatching(/^not valid JSON/),
    });
    expect(state.step).toBe(4);
    expect(state.detail).toMatch(/meta\.json: not valid JSON .*restore it/);
  });

  it('a meta.json that is JSON but no run record, or a garbled config.json, is damaged too', () => {
    const wrongStatus = runDir({ 'meta.json': meta('finished') });
    expect(readRunState(wrongStatus)).toMatchObject({
      state: 'damaged',
      damaged: {
        file: runFile(wrongStatus, 'meta'),
        reason: expect.stringMatching(/status "finished" is not one of/),
      },
    });
    const array = runDir({ 'meta.json': '[1, 2]' });
    expect(readRunState(array).damaged?.reason).toBe('not a JSON object');
    const config = runDir({ 'meta.json': meta('interrupted'), 'config.json': 'lr: 0.1' });
    expect(readRunState(config)).toMatchObject({
      state: 'damaged',
      damaged: { file: runFile(config, 'config') },
    });
  });

  it('meta.json saying running is running while a live process holds the lock, interrupted once none does', () => {
    const dir = runDir({ 'meta.json': meta('running', { step: 1 }), 'metrics.jsonl': metrics });
    expect(readRunState(dir)).toMatchObject({
      state: 'interrupted',
      step: 4,
      detail: /no process holds the run/,
    });
    const lock = acquireLock(runLockFile(dir), { purpose: 'test writer' });
    try {
      expect(readRunState(dir)).toMatchObject({
        state: 'running',
        holder: { pid: process.pid, host: os.hostname() },
      });
    } finally {
      lock.release();
    }
  });

  it('records without meta.json and without a live writer read as interrupted', () => {
    expect(readRunState(runDir({ 'metrics.jsonl': metrics }))).toMatchObject({
      state: 'interrupted',
      step: 4,
    });
  });
});
