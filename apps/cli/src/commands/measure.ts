import { firstN, type ImageSplit } from '@fisherlab/datasets';
import { initBackend, tf } from '@fisherlab/engine';
import { estimateFisherTrace, TRACE_ESTIMATORS, type TraceEstimator } from '@fisherlab/fisher';
import { type Command, Option } from 'commander';
import { parseRunConfig } from '../config/load.js';
import { BACKENDS, DATASET_NAMES, type RunConfig } from '../config/schema.js';
import { UserError } from '../errors.js';
import { type PreparedData, prepareData, scoreSplit } from '../run/data.js';
import { loadModelSource } from './model-source.js';

interface MeasureOptions {
  checkpoint: string;
  dataset?: string;
  dataDir?: string;
  split: 'train' | 'test';
  n?: number;
  estimator: TraceEstimator;
  seed: number;
  json?: boolean;
  backend: RunConfig['backend'];
}

const positiveInt = (flag: string) => (raw: string) => {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new UserError(`${flag} expects a positive integer, got '${raw}'`);
  return n;
};

/** The dataset a measured model is evaluated on: the flags, else the run's own config. */
async function dataFor(options: MeasureOptions, runConfig: RunConfig | undefined): Promise<PreparedData> {
  const base = runConfig ?? parseRunConfig({ optimizer: { lr: 1 }, epochs: 1 }, 'defaults');
  const dataset = {
    ...base.dataset,
    noise: null,
    augment: false,
    trainSubset: undefined,
    testSubset: undefined,
  };
  if (options.dataset) dataset.name = options.dataset as RunConfig['dataset']['name'];
  if (options.dataDir) dataset.dir = options.dataDir;
  return prepareData({ ...base, dataset: dataset as RunConfig['dataset'] });
}

/** The first `n` examples of a split as one normalized batch. */
function firstExamples(data: PreparedData, split: ImageSplit, n: number) {
  const head = firstN(split, Math.min(n, split.count));
  const [batch] = [...data.inOrder(head, head.count)];
  return { x: batch!.x, labels: batch!.labels };
}

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
    .option('--n <count>', 'first N examples of the split', positiveInt('--n'))
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
        .choices(TRACE_ESTIMATORS)
        .default('mc'),
    )
    .option('--seed <s>', 'seed of the sampled labels', (raw) => Number.parseInt(raw, 10), 0)
    .action(async (options: MeasureOptions) => {
      await initBackend({ backend: options.backend });
      const { model, runConfig } = await loadModelSource(options.checkpoint);
      const data = await dataFor(options, runConfig);
      const { x, labels } = firstExamples(
        data,
        options.split === 'train' ? data.train : data.test,
        options.n ?? 1024,
      );
      const estimate = estimateFisherTrace(
        model,
        { x, labels },
        { estimator: options.estimator, seed: options.seed, batchSize: 128 },
      );
      tf.dispose(x);
      model.dispose();
      if (options.json) {
        console.log(JSON.stringify(estimate));
      } else {
        const label = estimate.quantity === 'fisher' ? 'Tr(F)' : 'Tr(empirical Fisher)';
        console.log(
          `${label} = ${estimate.value.toPrecision(6)} ± ${estimate.standardError.toPrecision(3)} (${estimate.estimator}, ${estimate.examples} ${options.split} examples, ${estimate.ms.toFixed(0)} ms)`,
        );
        for (const [layer, v] of Object.entries(estimate.perLayer)) {
          console.log(`  ${layer.padEnd(28)} ${v.value.toPrecision(5)} ± ${v.standardError.toPrecision(3)}`);
        }
      }
    });

  commonOptions(program.command('eval'))
    .description('loss and accuracy of a saved model on a split')
    .action(async (options: MeasureOptions) => {
      await initBackend({ backend: options.backend });
      const { model, runConfig } = await loadModelSource(options.checkpoint);
      const data = await dataFor(options, runConfig);
      const split = options.split === 'train' ? data.train : data.test;
      const head = firstN(split, Math.min(options.n ?? split.count, split.count));
      const result = scoreSplit(model, data, head);
      model.dispose();
      const out = {
        split: options.split,
        examples: head.count,
        loss: result.loss,
        accuracy: result.accuracy,
      };
      console.log(
        options.json
          ? JSON.stringify(out)
          : `${options.split}: loss ${out.loss.toFixed(4)}, accuracy ${(100 * out.accuracy).toFixed(2)}% on ${head.count} examples`,
      );
    });
}
