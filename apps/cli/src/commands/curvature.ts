import { appendFileSync, closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import path from 'node:path';
import { firstN, type ImageSplit } from '@fisherlab/datasets';
import { tf } from '@fisherlab/engine';
import {
  broadenDensity,
  type CurvatureBatch,
  fisherDiagonal,
  fisherOperator,
  HessianOperator,
  type LinearOperator,
  spectralDensity,
  topEigenpairs,
} from '@fisherlab/fisher';
import { type CurvatureRecord, explainWriteError, type MetricRecord } from '@fisherlab/storage';
import {
  BACKENDS,
  latestCheckpoint,
  lockRun,
  type PreparedData,
  prepareData,
  type RunConfig,
  startBackend,
} from '@fisherlab/training';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { UserError } from '../errors.js';
import { checkInputShape, dataFor } from './measure-actions.js';
import { loadModelSource } from './model-source.js';

export const CURVATURE_MEASURES = ['top-eigenvalues', 'density', 'diag-fisher'] as const;
type Measure = (typeof CURVATURE_MEASURES)[number];
const MATRICES = ['hessian', 'fisher'] as const;
type Matrix = (typeof MATRICES)[number];

export interface CurvatureOptions {
  checkpoint: string;
  measure: Measure[];
  matrix: Matrix[];
  dataset?: string;
  dataDir?: string;
  split: 'train' | 'test';
  n: number;
  batchSize: number;
  k: number;
  steps: number;
  densityRuns: number;
  densitySteps: number;
  bins: number;
  diag: 'exact' | 'mc';
  seed: number;
  backend: RunConfig['backend'];
  record: boolean;
  json?: boolean;
}

const integer = (flag: string, min: number) => (raw: string) => {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min)
    throw new InvalidArgumentError(`${flag} expects an integer ≥ ${min}, got '${raw}'`);
  return n;
};

const listOf =
  <T extends string>(flag: string, allowed: readonly T[]) =>
  (raw: string): T[] => {
    const items = raw.split(',').map((s) => s.trim());
    const bad = items.find((s) => !(allowed as readonly string[]).includes(s));
    if (bad !== undefined || items.length === 0)
      throw new InvalidArgumentError(
        `${flag}: '${bad}' is not one of ${allowed.join(', ')} (comma-separated)`,
      );
    return [...new Set(items)] as T[];
  };

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
      listOf('--matrix', MATRICES),
      [...MATRICES],
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
    .option('--n <count>', 'first N examples of the split', integer('--n', 1), 256)
    .option('--batch-size <count>', 'examples per pass (memory bound)', integer('--batch-size', 1), 128)
    .option('--k <count>', 'top eigenvalues to report', integer('--k', 1), 5)
    .option('--steps <count>', 'most Lanczos steps for the top eigenvalues', integer('--steps', 2), 40)
    .option(
      '--density-runs <count>',
      'random starts of stochastic Lanczos quadrature',
      integer('--density-runs', 1),
      3,
    )
    .option('--density-steps <count>', 'Lanczos steps per start', integer('--density-steps', 2), 30)
    .option('--bins <count>', 'grid points of the broadened density', integer('--bins', 2), 200)
    .addOption(
      new Option('--diag <estimator>', 'diagonal of the Fisher: exact | mc')
        .choices(['exact', 'mc'])
        .default('mc'),
    )
    .option('--seed <s>', 'seed of the random starts and label draws', integer('--seed', 0), 0)
    .addOption(new Option('--backend <name>', 'TensorFlow.js backend').choices(BACKENDS).default('auto'))
    .option('--no-record', "print only; do not append to the run's metrics.jsonl")
    .option('--json', 'print one JSON object per record')
    .action(async (options: CurvatureOptions) => curvatureCommand(options));
}

/** The first `n` examples of the split, re-iterable in batches (each pass normalizes them again). */
function streamOf(data: PreparedData, head: ImageSplit, batchSize: number): Iterable<CurvatureBatch> {
  return {
    *[Symbol.iterator]() {
      for (const batch of data.inOrder(head, batchSize)) {
        const labels = tf.tensor1d(batch.labels, 'int32');
        try {
          yield { x: batch.x, labels };
        } finally {
          tf.dispose([batch.x, labels]);
        }
      }
    },
  };
}

export async function curvatureCommand(options: CurvatureOptions): Promise<void> {
  await startBackend(options.backend);
  const { model, runConfig } = await loadModelSource(options.checkpoint);
  const runDir = runConfig ? path.resolve(options.checkpoint) : undefined;
  if (options.record && !runDir) {
    throw new UserError(
      `--checkpoint ${options.checkpoint} is a model directory, not a run directory, so there is no metrics.jsonl to append to; pass a run directory or --no-record`,
    );
  }
  // The run's lock first: a run still training is refused before any work, not after it.
  const lock = options.record && runDir ? lockRun(runDir, { purpose: 'fisherlab curvature' }) : undefined;
  try {
    await measureAndRecord(options, model, runConfig, runDir);
  } finally {
    lock?.release();
    model.dispose();
  }
}

async function measureAndRecord(
  options: CurvatureOptions,
  model: tf.LayersModel,
  runConfig: RunConfig | undefined,
  runDir: string | undefined,
): Promise<void> {
  const data = await curvatureData(options, runConfig);
  checkInputShape(model, data, options);
  const split = options.split === 'train' ? data.train : data.test;
  const head = firstN(split, Math.min(options.n, split.count));
  const stream = streamOf(data, head, options.batchSize);
  const at = runDir
    ? checkpointPosition(runDir, latestCheckpoint(runDir)?.step)
    : { step: 0, epoch: 0, time: 0 };
  const records: CurvatureRecord[] = [];
  for (const matrix of options.matrix) {
    records.push(
      await measureMatrix(matrix, {
        kind: 'curvature',
        ...at,
        matrix,
        examples: head.count,
        split: options.split,
      }),
    );
  }
  data.dispose();
  // Printed before the append, so that a failed write loses no measurement.
  for (const r of records) console.log(options.json ? JSON.stringify(r) : describe(r));
  if (options.record && runDir) appendRecords(runDir, records);

  async function measureMatrix(matrix: Matrix, record: CurvatureRecord): Promise<CurvatureRecord> {
    const operator: LinearOperator =
      matrix === 'hessian' ? new HessianOperator(model, stream) : fisherOperator(model, stream);
    if (options.measure.includes('top-eigenvalues')) {
      const top = await topEigenpairs(operator, {
        k: options.k,
        maxIterations: options.steps,
        seed: options.seed,
      });
      record.topEigenvalues = top.values;
    }
    if (options.measure.includes('density')) {
      const density = await spectralDensity(operator, {
        runs: options.densityRuns,
        iterations: options.densitySteps,
        seed: options.seed,
      });
      const broadened = broadenDensity(density, { bins: options.bins });
      record.density = {
        grid: broadened.grid,
        values: broadened.values,
        runs: options.densityRuns,
        steps: options.densitySteps,
      };
    }
    if (matrix === 'fisher' && options.measure.includes('diag-fisher')) {
      const diag = await fisherDiagonal(model, stream, { type: options.diag, seed: options.seed });
      record.diagFisher = {
        estimator: options.diag,
        trace: diag.trace,
        traceStdErr: diag.traceStandardError,
        perLayer: Object.fromEntries(
          Object.entries(diag.perLayer).map(([layer, e]) => [
            layer,
            { value: e.value, stdErr: e.standardError },
          ]),
        ),
      };
    }
    return record;
  }
}

/**
 * The data a run's curvature is measured on: the run's own training data (its training subset and
 * label noise, as trained on, without augmentation), since flatness is a property of the loss it
 * minimized; with --dataset or for a bare model directory, the split as `fisherlab trace` reads it.
 */
async function curvatureData(
  options: CurvatureOptions,
  runConfig: RunConfig | undefined,
): Promise<PreparedData> {
  if (!runConfig || options.dataset || options.dataDir) return dataFor(options, runConfig);
  return prepareData({ ...runConfig, dataset: { ...runConfig.dataset, augment: false } });
}

/** Step, epoch and time of the checkpoint measured, from the run's own records at that step. */
function checkpointPosition(
  runDir: string,
  step: number | undefined,
): { step: number; epoch: number; time: number } {
  const file = path.join(runDir, 'metrics.jsonl');
  const lines = existsSync(file) ? readFileSync(file, 'utf8').split('\n') : [];
  let best: { step: number; epoch: number; time: number } = { step: step ?? 0, epoch: 0, time: 0 };
  for (const line of lines) {
    let r: MetricRecord;
    try {
      r = JSON.parse(line) as MetricRecord;
    } catch {
      continue; // a partial last line
    }
    if (typeof r.step === 'number' && r.step <= best.step && r.step >= 0) {
      best = { step: best.step, epoch: r.epoch, time: r.time };
    }
  }
  return best;
}

/**
 * Appends the records to metrics.jsonl (the caller holds the run's lock: a run still training holds
 * it and is refused with the holder named). A partial last line left by a killed run is ended first.
 */
function appendRecords(runDir: string, records: CurvatureRecord[]): void {
  const file = path.join(runDir, 'metrics.jsonl');
  const text = records.map((r) => `${JSON.stringify(r)}\n`).join('');
  try {
    appendFileSync(file, endsWithNewline(file) ? text : `\n${text}`);
  } catch (error) {
    throw explainWriteError(error, file);
  }
}

function endsWithNewline(file: string): boolean {
  if (!existsSync(file) || statSync(file).size === 0) return true;
  const fd = openSync(file, 'r');
  try {
    const last = Buffer.alloc(1);
    readSync(fd, last, 0, 1, statSync(file).size - 1);
    return last[0] === 0x0a;
  } finally {
    closeSync(fd);
  }
}

function describe(r: CurvatureRecord): string {
  const name = r.matrix === 'hessian' ? 'Hessian' : 'Fisher';
  const lines = [
    `${name} at step ${r.step} (epoch ${r.epoch.toFixed(2)}), ${r.examples} ${r.split} examples`,
  ];
  if (r.topEigenvalues)
    lines.push(`  top eigenvalues: ${r.topEigenvalues.map((v) => v.toPrecision(5)).join(', ')}`);
  if (r.density) {
    const { grid } = r.density;
    lines.push(
      `  spectral density: ${r.density.runs} SLQ runs × ${r.density.steps} steps on [${grid[0]?.toPrecision(4)}, ${grid.at(-1)?.toPrecision(4)}]`,
    );
  }
  if (r.diagFisher) {
    const d = r.diagFisher;
    lines.push(`  Σ diag(F) (${d.estimator}) = ${d.trace.toPrecision(6)} ± ${d.traceStdErr.toPrecision(3)}`);
    for (const [layer, e] of Object.entries(d.perLayer))
      lines.push(`    ${layer.padEnd(28)} ${e.value.toPrecision(5)} ± ${e.stdErr.toPrecision(3)}`);
  }
  return lines.join('\n');
}
