/**
 * Errors a user can act on. The CLI prints `message` (which names the thing, what was expected,
 * what was found and the fix) without a stack trace, and exits with `exitCode`.
 */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.usage,
  ) {
    super(message);
    this.name = 'UserError';
  }
}

/** Exit codes `fisherlab` uses; documented in the README. */
export const EXIT = {
  ok: 0,
  /** Something unexpected: a bug, reported with its stack. */
  internal: 1,
  /** Bad flags, bad config, bad input data. */
  usage: 2,
  /** The run diverged (non-finite loss, gradient, penalty or Tr(F)). */
  diverged: 3,
  /** Interrupted by SIGINT/SIGTERM after checkpointing; resume with --resume. */
  interrupted: 130,
} as const;
