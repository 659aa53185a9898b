import { randomBytes } from 'node:crypto';
import { linkSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { runFile } from './run-files.js';
import { explainWriteError, writeJsonAtomic } from './write.js';

/**
 * A lock file that says who holds it: host, pid, the process's start time (so a reused pid is not
 * mistaken for the holder) and a heartbeat (for holders on other hosts, whose pids cannot be
 * checked). It is created whole with link(2), which fails when the file exists on local and network
 * file systems alike, so two processes can never both hold it. A holder that is gone (its pid dead
 * or reused on this host, no heartbeat for `staleAfterMs` from another) is taken over.
 */

export interface LockHolder {
  host: string;
  pid: number;
  /** The holder's start time in clock ticks since boot (Linux), to tell a reused pid apart. */
  processStart?: number;
  /** What holds it, e.g. "fisherlab train". */
  purpose: string;
  /** Random, so two acquisitions by one process (a forced takeover) are told apart. */
  token: string;
  startedAt: string;
  heartbeatAt: string;
}

export interface HeldLock {
  readonly file: string;
  readonly holder: LockHolder;
  /** Refreshes the heartbeat now if the last one is older than the heartbeat period. */
  beat(): void;
  /** Removes the lock if it is still this process's. */
  release(): void;
}

export interface AcquireLockOptions {
  purpose: string;
  /** A holder on another host without a heartbeat for this long is presumed gone (default 10 min). */
  staleAfterMs?: number;
  /** Take over any lock, live or not. */
  force?: boolean;
  /** Take over locks of other hosts even with a fresh heartbeat (an engine re-ran the task elsewhere). */
  takeOverOtherHosts?: boolean;
  /** How often the heartbeat is refreshed (default 15 s). */
  heartbeatMs?: number;
}

export const DEFAULT_STALE_AFTER_MS = 10 * 60_000;
const DEFAULT_HEARTBEAT_MS = 15_000;
/** A half-finished takeover (its process killed in between) is cleared after this long. */
const BREAKER_STALE_MS = 10_000;

/** Another live process holds the lock. */
export class LockHeldError extends Error {
  override readonly name = 'LockHeldError';
  constructor(
    readonly file: string,
    readonly holder: LockHolder,
    readonly reason: string,
  ) {
    super(`${file} is held by ${holder.purpose} (${reason}, since ${holder.startedAt})`);
  }
}

/** This process's start time from /proc (Linux), or undefined elsewhere. */
export function processStartTime(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name (field 2) may hold spaces and parentheses: count fields after the last ')'
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const start = Number(fields[19]);
    return Number.isFinite(start) ? start : undefined;
  } catch {
    return undefined;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether a lock's holder is alive: its pid (and start time) on this host, its heartbeat elsewhere. */
export function lockLiveness(
  holder: LockHolder,
  now = Date.now(),
  staleAfterMs = DEFAULT_STALE_AFTER_MS,
): { alive: boolean; reason: string } {
  if (holder.host === os.hostname()) {
    const who = `pid ${holder.pid} on this host`;
    if (!pidAlive(holder.pid)) return { alive: false, reason: `its process (${who}) is gone` };
    const start = holder.processStart;
    if (start !== undefined) {
      const current = processStartTime(holder.pid);
      if (current !== undefined && current !== start)
        return { alive: false, reason: `its process (${who}) is gone; the pid now belongs to another` };
    }
    return { alive: true, reason: `${who} is alive` };
  }
  const age = now - Date.parse(holder.heartbeatAt);
  const minutes = (age / 60_000).toFixed(1);
  return age < staleAfterMs
    ? { alive: true, reason: `host ${holder.host} pid ${holder.pid}, heartbeat ${minutes} min ago` }
    : {
        alive: false,
        reason: `no heartbeat from host ${holder.host} (pid ${holder.pid}) for ${minutes} min`,
      };
}

/** The holder recorded in a lock file, or undefined when there is none (or it is unreadable). */
export function readLock(file: string): LockHolder | undefined {
  try {
    const value = JSON.parse(readFileSync(file, 'utf8')) as LockHolder;
    return typeof value.pid === 'number' && typeof value.host === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}

const sameHolder = (a: LockHolder | undefined, b: LockHolder | undefined) =>
  a !== undefined && b !== undefined && a.host === b.host && a.pid === b.pid && a.token === b.token;

const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** Creates `file` with `content` only if it does not exist, whole (link of a finished temporary file). */
function createExclusive(file: string, content: string): boolean {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeFileSync(tmp, content, { flag: 'wx' });
    linkSync(tmp, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw explainWriteError(error, file);
  } finally {
    rmSync(tmp, { force: true });
  }
}

/**
 * Removes a lock whose holder is gone, unless someone else changed it meanwhile: only the process
 * that creates `<file>.break` may remove it, and only if it still names the same holder.
 */
function breakLock(file: string, seen: LockHolder | undefined): void {
  const breaker = `${file}.break`;
  try {
    if (Date.now() - statSync(breaker).mtimeMs > BREAKER_STALE_MS) rmSync(breaker, { force: true });
  } catch {
    // no breaker: the usual case
  }
  if (!createExclusive(breaker, `${process.pid}\n`)) return; // another process is breaking it
  try {
    const current = readLock(file);
    if (sameHolder(current, seen) || (seen === undefined && current === undefined))
      rmSync(file, { force: true });
  } finally {
    rmSync(breaker, { force: true });
  }
}

/**
 * Takes the lock in `file` for this process, taking over a holder that is gone. A live holder
 * makes it throw LockHeldError (unless `force`, or `takeOverOtherHosts` for a holder elsewhere).
 */
export function acquireLock(file: string, options: AcquireLockOptions): HeldLock {
  const staleAfterMs = options.staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
  const heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
  const started = new Date().toISOString();
  const start = processStartTime(process.pid);
  const mine: LockHolder = {
    host: os.hostname(),
    pid: process.pid,
    ...(start !== undefined ? { processStart: start } : {}),
    purpose: options.purpose,
    token: randomBytes(8).toString('hex'),
    startedAt: started,
    heartbeatAt: started,
  };
  for (let attempt = 0; ; attempt++) {
    if (createExclusive(file, `${JSON.stringify(mine, null, 2)}\n`)) break;
    const other = readLock(file);
    if (other === undefined) {
      // an unreadable lock: written by something else, or damaged; old enough, it is garbage
      let age = 0;
      try {
        age = Date.now() - statSync(file).mtimeMs;
      } catch {
        continue; // removed meanwhile: try again
      }
      if (age < BREAKER_STALE_MS && attempt < 50) {
        sleep(20);
        continue;
      }
      breakLock(file, undefined);
    } else {
      const liveness = lockLiveness(other, Date.now(), staleAfterMs);
      const elsewhere = other.host !== mine.host;
      const takeOver = !liveness.alive || options.force || (elsewhere && options.takeOverOtherHosts === true);
      if (!takeOver || attempt >= 50) throw new LockHeldError(file, other, liveness.reason);
      breakLock(file, other);
    }
    sleep(attempt < 5 ? 1 : 20);
  }
  let lastBeat = Date.now();
  const beatNow = () => {
    lastBeat = Date.now();
    if (!sameHolder(readLock(file), mine)) return; // taken over (--force): leave the new holder alone
    try {
      writeJsonAtomic(file, { ...mine, heartbeatAt: new Date(lastBeat).toISOString() });
    } catch {
      // a missed heartbeat only makes the lock look older to other hosts
    }
  };
  const timer = setInterval(beatNow, heartbeatMs);
  timer.unref();
  let released = false;
  return {
    file,
    holder: mine,
    beat() {
      if (!released && Date.now() - lastBeat >= heartbeatMs) beatNow();
    },
    release() {
      if (released) return;
      released = true;
      clearInterval(timer);
      if (sameHolder(readLock(file), mine)) rmSync(file, { force: true });
    },
  };
}

/** The lock file of a run directory. */
export const runLockFile = (runDir: string): string => runFile(runDir, 'lock');
