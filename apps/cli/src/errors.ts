import { WRITE_ERROR_HINTS } from '@fisherlab/storage';
import { type InputError, isInputError } from '@fisherlab/training';
import { TRAIN_FLAGS } from './config/flags.js';

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

/** Error classes of the packages that mean bad input or a bad environment, never a bug. */
const INPUT_ERRORS = new Set([
  'TrainingError',
  'NativeTierError',
  'WriteError',
  'IntegrityError',
  'LockHeldError',
  'SweepError',
  'DemoError',
  'RunDataError',
  'RunDirectoryError',
  'ResumeRefusedError',
  'RunInUseError',
  'CheckpointError',
  'BackendError',
  'EnvironmentSettingError',
]);

/** Operating-system errors on a path the user named or the machine controls (not bugs). */
const ENVIRONMENT_CODES: Record<string, string> = {
  ...WRITE_ERROR_HINTS,
  ENOENT: 'no such file or directory: check the path',
  EACCES: 'permission denied: check the permissions, or choose another path',
  EISDIR: 'this is a directory, where a file was expected: name a file',
};

/**
 * The CLI's one error boundary: what a user can fix (bad flags, config, data, files, a full disk,
 * a run in use) becomes a message naming the file or key and the fix, exit 2; anything else is a
 * bug, printed with its stack, exit 1.
 */
export function explainError(error: unknown): { message: string; exitCode: number } | undefined {
  if (error instanceof UserError) return { message: error.message, exitCode: error.exitCode };
  if (error instanceof Error && error.name === 'DemoError') {
    return { message: error.message, exitCode: (error as Error & { exitCode: number }).exitCode };
  }
  if (isInputError(error)) return { message: withFlag(error), exitCode: EXIT.usage };
  if (!(error instanceof Error)) return undefined;
  if (INPUT_ERRORS.has(error.name)) return { message: error.message, exitCode: EXIT.usage };
  const errno = error as NodeJS.ErrnoException;
  if (errno.code && ENVIRONMENT_CODES[errno.code] && (errno.path || errno.syscall)) {
    const where = errno.path ? `${errno.path}: ` : '';
    return {
      message: `${where}${ENVIRONMENT_CODES[errno.code]} (${errno.code}${errno.syscall ? ` in ${errno.syscall}` : ''})`,
      exitCode: EXIT.usage,
    };
  }
  return undefined;
}

/** Keys of the library's measuring options (trace, eval, curvature) and their flags. */
const MEASURE_FLAGS: Record<string, string> = {
  checkpoint: '--checkpoint',
  dataset: '--dataset',
  dataDir: '--data-dir',
};

/** A library InputError's message, plus the flag that sets its key where the command has one. */
function withFlag(error: InputError): string {
  const key = error.key ?? '';
  const flag = TRAIN_FLAGS.find((f) => f.key === key)?.flag.split(' ')[0] ?? MEASURE_FLAGS[key];
  return flag ? `${error.message} (on the command line: ${flag})` : error.message;
}
