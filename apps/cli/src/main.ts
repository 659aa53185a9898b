import { WRITE_ERROR_HINTS } from '@fisherlab/storage';
import { Command, CommanderError } from 'commander';
import { registerData } from './commands/data.js';
import { registerDemo } from './commands/demo.js';
import { registerDoctor } from './commands/doctor.js';
import { registerMeasure } from './commands/measure.js';
import { registerReport } from './commands/report.js';
import { registerSweep } from './commands/sweep.js';
import { registerTrain } from './commands/train.js';
import { locateDatasets } from './datasets.js';
import { EXIT, UserError } from './errors.js';
import { CLI_VERSION } from './version.js';

/** Builds the `fisherlab` program; every command registers itself here. */
export function buildProgram(): Command {
  const program = new Command('fisherlab')
    .description(
      "Catastrophic Fisher Explosion, from Node: train with and without the Fisher penalty, track Tr(F), report the paper's figures.",
    )
    .version(CLI_VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerDoctor(program, locateDatasets);
  registerTrain(program);
  registerMeasure(program);
  registerData(program);
  registerReport(program);
  registerDemo(program);
  registerSweep(program);
  return program;
}

/** Runs the CLI and returns the exit code; errors a user can fix print without a stack trace. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return process.exitCode === undefined ? EXIT.ok : Number(process.exitCode);
  } catch (error) {
    if (error instanceof CommanderError) {
      // commander already printed the message (or the help / version)
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    const explained = explainError(error);
    if (explained) {
      console.error(`fisherlab: ${explained.message}`);
      return explained.exitCode;
    }
    console.error(error);
    return EXIT.internal;
  }
}

/** Error classes of the packages that mean bad input or a bad environment, never a bug. */
const INPUT_ERRORS = new Set([
  'DatasetError',
  'TrainingError',
  'NativeTierError',
  'WriteError',
  'IntegrityError',
  'LockHeldError',
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
