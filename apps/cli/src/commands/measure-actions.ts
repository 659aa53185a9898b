import { firstN, type ImageSplit } from '@fisherlab/datasets';
import { tf } from '@fisherlab/engine';
import { estimateFisherTrace, type TraceEstimator } from '@fisherlab/fisher';
import {
  type PreparedData,
  parseRunConfig,
  prepareData,
  type RunConfig,
  scoreSplit,
  startBackend,
} from '@fisherlab/training';
import { UserError } from '../errors.js';
import { loadModelSource } from './model-source.js';

export interface MeasureOptions {
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

/** The dataset a measured model is evaluated on: the flags, else the run's own config. */
export async function dataFor(
  options: Pick<MeasureOptions, 'dataset' | 'dataDir'>,
  runConfig: RunConfig | undefined,
): Promise<PreparedData> {
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

/**
 * Refuses a dataset whose images the model cannot take (another size or channel count), naming
 * both shapes and the fix, instead of failing inside tfjs.
 */
export function checkInputShape(
  model: tf.LayersModel,
  data: PreparedData,
  options: Pick<MeasureOptions, 'checkpoint' | 'dataset'>,
): void {
  const expected = model.inputs[0]?.shape.slice(1) ?? [];
  const found = data.inputShape;
  if (expected.length === found.length && expected.every((d, i) => d === null || d === found[i])) return;
  throw new UserError(
    `--checkpoint ${options.checkpoint} takes ${expected.join('x')} images, but ${options.dataset ?? data.name} has ${found.join('x')}; pass the --dataset the model was trained on (or omit --dataset to use the run's own)`,
  );
}

/** The first `n` examples of a split as one normalized batch. */
function firstExamples(data: PreparedData, split: ImageSplit, n: number) {
  const head = firstN(split, Math.min(n, split.count));
  const [batch] = [...data.inOrder(head, head.count)];
  return { x: batch!.x, labels: batch!.labels };
}

export async function traceCommand(options: MeasureOptions): Promise<void> {
  await startBackend(options.backend);
  const { model, runConfig } = await loadModelSource(options.checkpoint);
  const data = await dataFor(options, runConfig);
  checkInputShape(model, data, options);
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
}

export async function evalCommand(options: MeasureOptions): Promise<void> {
  await startBackend(options.backend);
  const { model, runConfig } = await loadModelSource(options.checkpoint);
  const data = await dataFor(options, runConfig);
  checkInputShape(model, data, options);
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
}
