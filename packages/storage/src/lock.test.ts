import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { acquireLock, LockHeldError, lockLiveness, processStartTime, readLock } from './lock.js';

/** Locks held by real processes: the built package, imported by child Node processes. */
const built = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'index.js');
const dir = mkdtempSync(path.join(tmpdir(), 'fisherlab-lock-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A child that takes the lock, prints 'held <pid>' (or 'refused'), then waits to be killed. */
function holder(file: string): ChildProcess {
  const script = `
    const { acquireLock } = await import(${JSON.stringify(built)});
    try { acquireLock(${JSON.stringify(file)}, { purpose: 'test holder' }); console.log('held ' + process.pid); }
    catch (e) { console.log('refused ' + e.name); process.exit(0); }
    setInterval(() => {}, 1000);`;
  return spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

const firstLine = (child: ChildProcess) =>
  new Promise<string>((resolve) => {
    let text = '';
    child.stdout!.on('data', (d) => {
      text += String(d);
      if (text.includes('\n')) resolve(text.split('\n')[0]!);
    });
  });

const exited = (child: ChildProcess) =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => child.on('exit', resolve));

describe('acquireLock', () => {
  it('refuses a second holder while the first lives, naming it, and takes over once it is killed', async () => {
    expect(existsSync(built), `build the package first (${built})`).toBe(true);
    const file = path.join(dir, 'a.lock');
    const child = holder(file);
    expect(await firstLine(child)).toBe(`held ${child.pid}`);
    let refusal: unknown;
    try {
      acquireLock(file, { purpose: 'second' });
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(LockHeldError);
    expect((refusal as Error).message).toMatch(
      new RegExp(`held by test holder \\(pid ${child.pid} on this host is alive`),
    );
    child.kill('SIGKILL');
    await exited(child);
    expect(readLock(file)?.pid).toBe(child.pid); // a SIGKILL leaves the file behind
    const lock = acquireLock(file, { purpose: 'after the kill' });
    expect(readLock(file)).toMatchObject({ pid: process.pid, purpose: 'after the kill' });
    lock.release();
    expect(existsSync(file)).toBe(false);
  });

  it('lets exactly one of several processes take over a stale lock at the same moment', async () => {
    const file = path.join(dir, 'race.lock');
    const gone = holder(file);
    expect(await firstLine(gone)).toMatch(/^held/);
    gone.kill('SIGKILL');
    await exited(gone);
    const racers = Array.from({ length: 4 }, () => holder(file));
    const lines = await Promise.all(racers.map(firstLine));
    expect(lines.filter((l) => l.startsWith('held')).length).toBe(1);
    expect(lines.filter((l) => l === 'refused LockHeldError').length).toBe(3);
    const winner = racers[lines.findIndex((l) => l.startsWith('held'))]!;
    expect(readLock(file)?.pid).toBe(winner.pid);
    for (const r of racers) r.kill('SIGKILL');
    await Promise.all(racers.map(exited));
  });

  it('treats a live pid with another start time as a reused pid, hence gone', () => {
    const start = processStartTime(process.pid);
    if (start === undefined) return; // no /proc: only the pid can be checked
    const reused = {
      host: os.hostname(),
      pid: process.pid,
      processStart: start + 1,
      purpose: 'x',
      token: 't',
      startedAt: new Date().toISOString(),
      heartbeatAt: new Date().toISOString(),
    };
    expect(lockLiveness(reused).alive).toBe(false);
    expect(lockLiveness({ ...reused, processStart: start }).alive).toBe(true);
  });

  it('judges holders on other hosts by their heartbeat', () => {
    const file = path.join(dir, 'remote.lock');
    const now = Date.now();
    const remote = (ageMs: number) => ({
      host: 'another-host.example',
      pid: 1,
      purpose: 'remote worker',
      token: 'r',
      startedAt: new Date(now - ageMs).toISOString(),
      heartbeatAt: new Date(now - ageMs).toISOString(),
    });
    writeFileSync(file, JSON.stringify(remote(60_000)));
    expect(() => acquireLock(file, { purpose: 'here', staleAfterMs: 600_000 })).toThrow(
      /held by remote worker \(host another-host\.example pid 1, heartbeat 1\.0 min ago/,
    );
    acquireLock(file, { purpose: 'here', staleAfterMs: 600_000, takeOverOtherHosts: true }).release();
    writeFileSync(file, JSON.stringify(remote(20 * 60_000)));
    const lock = acquireLock(file, { purpose: 'here', staleAfterMs: 600_000 });
    expect(JSON.parse(readFileSync(file, 'utf8')).purpose).toBe('here');
    lock.release();
  });

  it('release leaves a lock that another process took over (with force) alone', () => {
    const file = path.join(dir, 'forced.lock');
    const first = acquireLock(file, { purpose: 'first' });
    const second = acquireLock(file, { purpose: 'second', force: true });
    first.release();
    expect(readLock(file)?.purpose).toBe('second');
    second.release();
    expect(existsSync(file)).toBe(false);
  });
});
