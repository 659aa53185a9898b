import os from 'node:os';
import path from 'node:path';
import {
  type AcquireLockOptions,
  acquireLock,
  type HeldLock,
  LockHeldError,
  runLockFile,
} from '@fisherlab/storage';
import { RunInUseError } from './errors.js';

/**
 * The lock every writer of a run directory holds (train, a resume, sweep workers): a second
 * writer would interleave metrics lines and checkpoints. A live holder makes it throw RunInUseError
 * naming it; a holder that is gone (killed) is taken over.
 */
export function lockRun(
  runDir: string,
  options: Omit<AcquireLockOptions, 'purpose'> & { purpose?: string } = {},
): HeldLock {
  try {
    return acquireLock(runLockFile(runDir), { purpose: 'fisherlab train', ...options });
  } catch (error) {
    if (error instanceof LockHeldError) {
      const { holder } = error;
      const here = holder.host === os.hostname() && holder.pid === process.pid;
      throw new RunInUseError(path.resolve(runDir), error.file, holder, here, error.reason);
    }
    throw error;
  }
}

export type { HeldLock };
