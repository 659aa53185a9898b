import { existsSync } from 'node:fs';
import path from 'node:path';
import { describeCurvatureRecord } from '@fisherlab/analysis';
import {
  appendMeasurements,
  BACKENDS,
  CURVATURE_MATRICES,
  CURVATURE_MEASURES,
  type CurvatureMatrix,
  type CurvatureMeasure,
  curvatureOfSavedModel,
  lockRun,
  type RunConfig,
  type SavedCurvatureMeasurement,
} from '@fisherlab/training';
import { type Command, Option } from 'commander';
import { listOf, wholeNumber } from '../config/flag-values.js';
import { UserError } from '../errors.js';

export interface CurvatureOptions extends SavedCurvatureMeasurement {
  measure: CurvatureMeasure[];
  matrix: CurvatureMatrix[];
  backend: RunConfig['backend'];
  record: boolean;
  json?: boolean;
}

export function registerCurvature(program: Command): void {
  program
    .command('curvature')
    .description(
      "top-k eigenvalues and spectral density of the Hessian and the Fisher, and the Fisher's diagonal per layer, of a saved model; appended to the run's metrics.jsonl",
    )
    .requiredOption(
      '--checkpoint <dir>',
      'a run directory (latest checkpoint) or a directory with model.json + weights.bin',
    )
    .option(
      '--measure <list>',
      `comma-separated: ${CURVATURE_MEASURES.join(', ')}`,
      listOf('--measure', CURVATURE_MEASURES),
      [...CURVATURE_MEASURES],
    )
    .option(
      '--matrix <list>',
      'comma-separated: hessian, fisher (exact Fisher = GGN)',
      listOf('--matrix', CURVATURE_MATRICES),
      [...CURVATURE_MATRICES],
    )
    .option(
      '--dataset <name>',
      "measure on the first N of this dataset's split instead of the examples the run trained on",
    )
    .option('--data-dir <dir>', 'directory holding the dataset files')
    .addOption(
      new Option(
        '--split <split>',
        "train: the run's training examples (its subset, labels as trained on); test: its test split",
      )
        .choices(['train', 'test'])
        .default('train'),
    )
    .option('--n <count>', 'first N examples of the split', wholeNumber('--n', 1), 256)
    .option('--batch-size <count>', 'examples per pass (memory bound)', wholeNumber('--batch-size', 1), 128)
    .option('--k <count>', 'top eigenvalues to report', wholeNumber('--k', 1), 5)
    .option('--steps <count>', 'most Lanczos steps for the top eigenvalues', wholeNumber('--steps', 2), 40)
    .option(
      '--density-runs <count>',
      'random starts of stochastic Lanczos quadrature',
      wholeNumber('--density-runs', 1),
      3,
    )
    .option('--density-steps <count>', 'Lanczos steps per start', wholeNumber('--density-steps', 2), 30)
    .option('--bins <count>', 'grid points of the broadened density', wholeNumber('--bins', 2), 200)
    .addOption(
      new Option('--diag <estimator>', 'diagonal of the Fisher: exact | mc')
        .choices(['exact', 'mc'])
        .default('mc'),
    )
    .option('--seed <s>', 'seed of the random starts and label draws', wholeNumber('--seed', 0), 0)
    .addOption(new Option('--backend <name>', 'TensorFlow.js backend').choices(BACKENDS).default('auto'))
    .option('--no-record', "print only; do not append to the run's metrics.jsonl")
    .option('--json', 'print one JSON object per record')
    .action(async (options: CurvatureOptions) => curvatureCommand(options));
}

/** Measures, prints the records (before appending them, so a failed write loses nothing), appends. */
export async function curvatureCommand(options: CurvatureOptions): Promise<void> {
  const isRun = existsSync(path.join(path.resolve(options.checkpoint), 'config.json'));
  if (options.record && !isRun) {
    throw new UserError(
      `--checkpoint ${options.checkpoint} is a model directory, not a run directory, so there is no metrics.jsonl to append to; pass a run directory or --no-record`,
    );
  }
  // The run's lock first: a run still training is refused before any work, not after it.
  const lock = options.record
    ? lockRun(path.resolve(options.checkpoint), { purpose: 'fisherlab curvature' })
    : undefined;
  try {
    const { records, runDir } = await curvatureOfSavedModel(options);
    for (const r of records) console.log(options.json ? JSON.stringify(r) : describeCurvatureRecord(r));
    if (lock && runDir) appendMeasurements(runDir, records, lock);
  } finally {
    lock?.release();
  }
}
