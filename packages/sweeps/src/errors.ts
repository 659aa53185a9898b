/**
 * A problem with a sweep the caller can fix (a bad sweep file or plan, a run index out of range, a
 * damaged run record): the message names the file or flag, what was found and the fix. The CLI
 * prints it without a stack trace and exits 2.
 */
export class SweepError extends Error {
  override name = 'SweepError';
}

/**
 * What a worker (`fisherlab sweep run`) exits with: the contract the engines' retry policies read
 * (the Kubernetes podFailurePolicy, the Slurm script's requeue, the local pool's tally).
 */
export const WORKER_EXIT = {
  ok: 0,
  /** Anything unexpected: retried by the engines. */
  failed: 1,
  /** A config, data or record error: every retry would fail the same way. */
  userError: 2,
  /** Stopped by SIGTERM/SIGINT with a resumable directory: retried without counting. */
  interrupted: 130,
  /**
   * Killed by SIGTERM's default action: the signal came while node itself was starting, before
   * any JavaScript could handle it, so nothing was written; the engines count it as interrupted.
   */
  killedByTerm: 143,
} as const;
