import os from 'node:os';
import path from 'node:path';
import {
  type AcquireLockOptions,
  acquireLock,
  type HeldLock,
  LockHeldError,
  runLockFile,
} from '@fisherlab/storage';
import { TrainingError } from './errors.js';

/**
 * The lock every writer of a run directory holds (train, train --resume, sweep workers): a second
 * writer would interleave metrics lines and checkpoints. It is refused with exit 2 naming the
 * holder; a holder that is gone (killed) is taken over.
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
      const local = holder.host === os.hostname();
      throw new TrainingError(
        `${path.resolve(runDir)} is in use by another process: ${holder.purpose}, ${error.reason}, since ${holder.startedAt}. ` +
          `Let it finish${local ? ` (or stop it: kill ${holder.pid})` : ''}, or use another --output. The lock is ${error.file}.`,
      );
    }
    throw error;
  }
}

export type { HeldLock };
