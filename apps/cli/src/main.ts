import { Command, CommanderError } from 'commander';
import { registerCurvature } from './commands/curvature.js';
import { registerData } from './commands/data.js';
import { registerDemo } from './commands/demo.js';
import { registerDoctor } from './commands/doctor.js';
import { registerMeasure } from './commands/measure.js';
import { registerReport } from './commands/report.js';
import { registerSweep } from './commands/sweep.js';
import { registerTrain } from './commands/train.js';
import { EXIT, explainError } from './errors.js';
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
  registerDoctor(program, async () => (await import('@fisherlab/datasets')).locateAllDatasets());
  registerTrain(program);
  registerMeasure(program);
  registerData(program);
  registerReport(program);
  registerDemo(program);
  registerSweep(program);
  registerCurvature(program);
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

export { explainError };
