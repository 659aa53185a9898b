import {
  applyLabelNoise,
  BatchIterator,
  classBalancedSubset,
  type Dataset,
  DatasetError,
  deriveSeed,
  firstN,
  type ImageSplit,
  type LabelNoiseResult,
  loadDataset,
  Rng,
  selectExamples,
  validationSplit,
} from '@fisherlab/datasets';
import { softmaxCrossEntropyPerExample, tf } from '@fisherlab/engine';
import type { EvalRecord } from '@fisherlab/storage';
import { TrainingError } from './errors.js';
import type { RunConfig } from './spec.js';
import { STREAM } from './streams.js';

export interface TensorBatch {
  x: tf.Tensor4D;
  y: tf.Tensor1D;
}

/** A run's data: splits with noise applied, normalization, and the batches the trainer asks for. */
export interface PreparedData {
  name: string;
  inputShape: [number, number, number];
  numClasses: number;
  classNames: string[];
  /** Training split, labels as trained on (noisy where noise is on). */
  train: ImageSplit;
  validation: ImageSplit | null;
  test: ImageSplit;
  noise: LabelNoiseResult | null;
  normalization: { mean: number[]; std: number[] };
  /** The training batch of (0-based) step `step`: a pure function of (seed, step). */
  trainBatch(step: number, stepsPerEpoch: number): TensorBatch;
  /** The fixed training examples Tr(F) is tracked on (normalized, not augmented), built once. */
  trackingSet(size: number): { x: tf.Tensor4D; labels: Int32Array };
  /** Float32 batches of a split in order, normalized, not augmented (evaluation). */
  inOrder(
    split: ImageSplit,
    batchSize: number,
  ): Generator<{ x: tf.Tensor4D; labels: Int32Array; indices: Int32Array }>;
  describe(): string;
  dispose(): void;
}

const toTensor = (images: Float32Array, shape: [number, number, number, number]): tf.Tensor4D =>
  tf.tensor4d(images, shape);

/** The run's dataset as stored; a missing or damaged one is a TrainingError naming it. */
async function loadRunDataset(c: RunConfig['dataset']): Promise<Dataset> {
  try {
    return await loadDataset(c.name, {
      ...(c.dir ? { dir: c.dir } : {}),
      ...(c.name === 'cifar100' ? { labels: c.coarseLabels ? 'coarse' : 'fine' } : {}),
    });
  } catch (error) {
    if (error instanceof DatasetError || error instanceof Error) {
      throw new TrainingError(`dataset '${c.name}': ${error.message}`);
    }
    throw error;
  }
}

export async function prepareData(config: RunConfig): Promise<PreparedData> {
  const c = config.dataset;
  const dataset = await loadRunDataset(c);
  const numClasses = dataset.classNames.length;
  let train = dataset.train;
  if (c.trainSubset !== undefined) {
    if (c.trainSubset > train.count) {
      throw new TrainingError(
        `dataset.trainSubset is ${c.trainSubset} but ${c.name} has ${train.count} training examples`,
      );
    }
    train = classBalancedSubset(train, {
      size: c.trainSubset,
      numClasses,
      seed: deriveSeed(config.seed, STREAM.subset),
    }).split;
  }
  let validation: ImageSplit | null = null;
  if (c.validationFraction > 0) {
    const split = validationSplit(train, {
      size: c.validationFraction,
      seed: deriveSeed(config.seed, STREAM.validation),
    });
    train = split.train;
    validation = split.validation;
  }
  let noise: LabelNoiseResult | null = null;
  if (c.noise && c.noise.fraction > 0) {
    noise = applyLabelNoise(train.labels, numClasses, {
      mode: c.noise.mode,
      fraction: c.noise.fraction,
      seed: deriveSeed(config.seed, STREAM.noise),
    });
    train = { ...train, labels: noise.labels };
  }
  const test =
    c.testSubset !== undefined
      ? firstN(dataset.test, Math.min(c.testSubset, dataset.test.count))
      : dataset.test;
  const normalization = { mean: dataset.meta.mean, std: dataset.meta.std };
  const inputShape: [number, number, number] = [train.height, train.width, train.channels];

  let iterator: BatchIterator | undefined;
  let tracking: { x: tf.Tensor4D; labels: Int32Array } | undefined;

  return {
    name: dataset.name,
    inputShape,
    numClasses,
    classNames: dataset.classNames,
    train,
    validation,
    test,
    noise,
    normalization,
    trainBatch(step, stepsPerEpoch) {
      const position = {
        epoch: Math.floor(step / stepsPerEpoch),
        index: (step % stepsPerEpoch) * config.batchSize,
      };
      const current = iterator?.position;
      if (!iterator || current?.epoch !== position.epoch || current.index !== position.index) {
        iterator = new BatchIterator(train, {
          batchSize: config.batchSize,
          seed: deriveSeed(config.seed, STREAM.shuffle),
          augment: c.augment,
          normalize: normalization,
          position,
        });
      }
      const batch = iterator.next();
      return { x: toTensor(batch.images, batch.shape), y: tf.tensor1d(batch.labels, 'int32') };
    },
    trackingSet(size) {
      if (!tracking) {
        const n = Math.min(size, train.count);
        const indices = Rng.fromSeed(deriveSeed(config.seed, STREAM.trackSubset))
          .permutation(train.count)
          .slice(0, n)
          .sort();
        const subset = selectExamples(train, indices);
        const all = new BatchIterator(subset, {
          batchSize: n,
          seed: 0,
          shuffle: false,
          normalize: normalization,
        }).next();
        tracking = { x: toTensor(all.images, all.shape), labels: all.labels };
      }
      return tracking;
    },
    *inOrder(split, batchSize) {
      const it = new BatchIterator(split, { batchSize, seed: 0, shuffle: false, normalize: normalization });
      for (let i = 0; i < it.batchesPerEpoch; i++) {
        const b = it.next();
        yield { x: toTensor(b.images, b.shape), labels: b.labels, indices: b.indices };
      }
    },
    describe() {
      const parts = [
        `${dataset.name}: ${train.count} train${validation ? ` / ${validation.count} validation` : ''} / ${test.count} test, ${inputShape.join('x')}, ${numClasses} classes`,
      ];
      if (noise) parts.push(`noise ${noise.id} (${noise.changed} labels changed)`);
      if (c.augment) parts.push('augmented');
      return parts.join(', ');
    },
    dispose() {
      tracking?.x.dispose();
      tracking = undefined;
    },
  };
}

/** The measured fields of an eval record (see EvalRecord in the analysis package's records.ts). */
export type EvaluationResult = Omit<EvalRecord, 'kind' | 'step' | 'epoch' | 'time'>;

/** Mean loss, accuracy and per-example correctness of a model over a split (inference mode). */
export function scoreSplit(model: tf.LayersModel, data: Pick<PreparedData, 'inOrder'>, split: ImageSplit) {
  let lossSum = 0;
  const correct = new Uint8Array(split.count);
  const order = new Int32Array(split.count);
  let seen = 0;
  for (const batch of data.inOrder(split, 500)) {
    const [loss, hits] = tf.tidy(() => {
      const logits = model.predict(batch.x) as tf.Tensor2D;
      const labels = tf.tensor1d(batch.labels, 'int32');
      return [tf.sum(softmaxCrossEntropyPerExample(logits, labels)), tf.equal(tf.argMax(logits, 1), labels)];
    });
    lossSum += loss.dataSync()[0]!;
    const h = hits.dataSync();
    for (let i = 0; i < h.length; i++) {
      correct[seen + i] = h[i]!;
      order[seen + i] = batch.indices[i]!;
    }
    seen += h.length;
    tf.dispose([loss, hits, batch.x]);
  }
  return { loss: lossSum / split.count, accuracy: mean(correct), correct, order };
}

export async function evaluateSplit(
  model: tf.LayersModel,
  data: PreparedData,
  config: RunConfig,
): Promise<EvaluationResult> {
  const result: EvaluationResult = {};
  const trainSubset = config.evaluation.trainSubset;
  const trainSplit =
    trainSubset > 0 && trainSubset < data.train.count ? firstN(data.train, trainSubset) : data.train;
  const train = scoreSplit(model, data, trainSplit);
  result.trainLoss = train.loss;
  result.trainAccuracy = train.accuracy;
  if (data.noise) {
    const mask = data.noise.mask;
    let clean = 0;
    let cleanHits = 0;
    let noisy = 0;
    let noisyHits = 0;
    for (let i = 0; i < train.correct.length; i++) {
      if (mask[train.order[i]!]) {
        noisy += 1;
        noisyHits += train.correct[i]!;
      } else {
        clean += 1;
        cleanHits += train.correct[i]!;
      }
    }
    if (clean > 0) result.trainCleanAccuracy = cleanHits / clean;
    if (noisy > 0) result.trainNoisyAccuracy = noisyHits / noisy;
  }
  if (data.validation) {
    const val = scoreSplit(model, data, data.validation);
    result.valLoss = val.loss;
    result.valAccuracy = val.accuracy;
  }
  const test = scoreSplit(model, data, data.test);
  result.testLoss = test.loss;
  result.testAccuracy = test.accuracy;
  return result;
}

const mean = (values: Uint8Array): number => values.reduce((a, b) => a + b, 0) / Math.max(values.length, 1);
