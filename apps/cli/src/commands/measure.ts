import { BACKENDS, DATASET_NAMES, ESTIMATORS } from '@fisherlab/training';
import { type Command, Option } from 'commander';
import { integer, wholeNumber } from '../config/flag-values.js';
import type { MeasureOptions } from './measure-actions.js';

function commonOptions(command: Command): Command {
  return command
    .requiredOption(
      '--checkpoint <dir>',
      'a run directory (latest checkpoint) or a directory with model.json + weights.bin',
    )
    .addOption(
      new Option('--dataset <name>', "dataset (default: the run's own, else the embedded default)").choices(
        DATASET_NAMES,
      ),
    )
    .option('--data-dir <dir>', 'directory holding the dataset files')
    .addOption(new Option('--split <split>', 'which split').choices(['train', 'test']).default('train'))
    .option('--n <count>', 'first N examples of the split', wholeNumber('--n', 1))
    .addOption(new Option('--backend <name>', 'TensorFlow.js backend').choices(BACKENDS).default('auto'))
    .option('--json', 'print one JSON object');
}

export function registerMeasure(program: Command): void {
  commonOptions(program.command('trace'))
    .description(
      "Tr(F) of a saved model on a dataset (inputs normalized by the dataset's per-channel mean/std, as in training)",
    )
    .addOption(
      new Option('--estimator <name>', 'exact | mc | minibatch | empirical (the empirical Fisher, not Tr(F))')
        .choices(ESTIMATORS)
        .default('mc'),
    )
    .option('--seed <s>', 'seed of the sampled labels', integer('--seed'), 0)
    .action(async (options: MeasureOptions) => (await import('./measure-actions.js')).traceCommand(options));

  commonOptions(program.command('eval'))
    .description('loss and accuracy of a saved model on a split')
    .action(async (options: MeasureOptions) => (await import('./measure-actions.js')).evalCommand(options));
}
