import type { tf } from '@fisherlab/engine';
import { preflight } from '../model-output.js';
import { TraceAccumulator } from './accumulate.js';
import { empiricalFisherTrace } from './empirical.js';
import { exactTrace } from './exact.js';
import { seededUniform } from './labels.js';
import { monteCarloTrace } from './mc.js';
import { minibatchTrace } from './minibatch.js';
import { TRACE_ESTIMATORS, type TraceData, type TraceEstimate, type TraceOptions } from './types.js';
import { ModelWalker } from './walker.js';

const DEFAULT_BATCH_SIZE = 64;

/**
 * Tr(F), the trace of the Fisher Information Matrix of a model that outputs logits, on the given
 * examples: Tr(F) = E_x E_{ŷ∼p(·|x)} ‖∇θ ℓ(x, ŷ)‖² over the model's trainable weights.
 *
 * - 'exact': Σ_c p(c|x) ‖g(x, c)‖² per example (C backward passes per batch); the reference.
 * - 'mc': ‖g(x, ŷ)‖² per example with ŷ drawn from the model (seeded), `samples` draws averaged;
 *   one backward pass per batch and draw.
 * - 'minibatch': B·‖(1/B) Σᵢ g(xᵢ, ŷᵢ)‖² per batch, unbiased, one backward per batch, more variance.
 * - 'empirical': ‖g(x, y)‖² at the TRUE labels: the empirical Fisher's trace, NOT Tr(F)
 *   (`quantity: 'empirical-fisher'` says so).
 *
 * Every estimator runs the model in inference mode (BatchNorm on its moving statistics, dropout
 * off), so examples do not interact. 'exact', 'mc' and 'empirical' take per-example norms from
 * layer inputs and pre-activation gradients for Dense, Conv2D and BatchNormalization layers (one
 * backward pass per batch); other layers with trainable weights cost one backward pass per example.
 */
export function estimateFisherTrace(
  model: tf.LayersModel,
  data: TraceData,
  options: TraceOptions,
): TraceEstimate {
  preflight(model, 'estimateFisherTrace');
  const started = performance.now();
  const { estimator } = options;
  if (!(TRACE_ESTIMATORS as readonly string[]).includes(estimator)) {
    throw new Error(
      `options.estimator: expected one of ${TRACE_ESTIMATORS.join(', ')}, found ${JSON.stringify(estimator)}; ` +
        'pass a supported estimator name',
    );
  }
  const batchSize = positiveInteger('options.batchSize', options.batchSize ?? DEFAULT_BATCH_SIZE);
  const samples = positiveInteger('options.samples', options.samples ?? 1);
  const seed = options.seed ?? 0;
  if (!Number.isFinite(seed)) {
    throw new Error(`options.seed: expected a finite number, found ${seed}; pass an integer seed such as 0`);
  }
  const { x } = data;
  if (x.rank < 2 || x.shape[0] === 0) {
    throw new Error(
      `data.x: expected a tensor of shape [examples, ...features] with at least one example, found shape ` +
        `[${x.shape}]; pass a batch of inputs with the example axis first`,
    );
  }
  const examples = x.shape[0]!;
  const walker = new ModelWalker(model);
  const into = new TraceAccumulator();
  const uniform = seededUniform(seed);
  let usedSamples = 1;

  switch (estimator) {
    case 'exact':
      exactTrace(walker, x, batchSize, into);
      break;
    case 'mc':
      monteCarloTrace(walker, x, batchSize, samples, uniform, into);
      usedSamples = samples;
      break;
    case 'minibatch':
      minibatchTrace(model, x, batchSize, samples, uniform, into);
      usedSamples = samples;
      break;
    case 'empirical':
      empiricalFisherTrace(walker, x, trueLabels(data, examples, model), batchSize, into);
      break;
  }
  const { value, standardError, perLayer } = into.summary();
  return {
    value,
    standardError,
    examples,
    estimator,
    quantity: estimator === 'empirical' ? 'empirical-fisher' : 'fisher',
    perLayer,
    samples: usedSamples,
    ms: performance.now() - started,
  };
}

function positiveInteger(key: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(`${key}: expected a positive integer, found ${value}; pass e.g. 64`);
  }
  return value;
}

function trueLabels(data: TraceData, examples: number, model: tf.LayersModel): Int32Array {
  const { labels } = data;
  if (labels === undefined) {
    throw new Error(
      "data.labels: estimator 'empirical' needs the true labels, found none; pass data.labels " +
        "(Int32Array or int32 Tensor1D), or use estimator 'mc' for Tr(F), which needs no labels",
    );
  }
  const raw = labels instanceof Int32Array ? labels : labels.dataSync();
  if (raw.length !== examples) {
    throw new Error(
      `data.labels: expected one label per example (${examples}), found ${raw.length}; pass labels aligned with data.x`,
    );
  }
  const classes = model.outputs[0]?.shape[1];
  const bad = Array.prototype.findIndex.call(
    raw,
    (y: number) => !Number.isInteger(y) || y < 0 || (typeof classes === 'number' && y >= classes),
  );
  if (bad >= 0) {
    throw new Error(
      `data.labels[${bad}]: expected a class index in [0, ${classes}), found ${raw[bad]}; ` +
        'pass integer class indices, not one-hot vectors or raw dataset codes',
    );
  }
  return raw instanceof Int32Array ? raw : Int32Array.from(raw);
}
