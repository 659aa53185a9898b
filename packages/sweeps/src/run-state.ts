import {
  DEFAULT_STALE_AFTER_MS,
  type RunState,
  type RunStateReport,
  readRunMeta,
  readRunState,
} from '@fisherlab/storage';
import { SweepError } from './errors.js';

/**
 * A run's state is @fisherlab/storage's one reading of its directory (readRunState: pending,
 * running, interrupted, failed, diverged, completed, or damaged naming the file); sweeps add only
 * the check of the staleness threshold their commands take.
 */
export { DEFAULT_STALE_AFTER_MS, readRunState };
export const readMeta = readRunMeta;
export type SweepRunState = RunState;
export type RunRecordState = RunStateReport;

/**
 * Refuses a threshold that would make every live worker look gone (zero, negative, not a number):
 * with one, a worker would take over a run another host is still writing.
 */
export function checkStaleAfter(staleAfterMs: number | undefined): number {
  const value = staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
  if (!(Number.isFinite(value) && value > 0)) {
    throw new SweepError(
      `stale-after must be a positive duration, got ${staleAfterMs} ms: a worker is presumed gone only after that long without a heartbeat`,
    );
  }
  return value;
}
