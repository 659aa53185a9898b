import { InputError } from '@fisherlab/core';
import type { tf } from '@fisherlab/engine';
import { checkClassLabels, checkFiniteScalar, checkInputBatch } from '../inputs.js';
import { traceUniform } from '../labels.js';
import { preflight } from '../model-output.js';
import { TraceAccumulator } from './accumulate.js';
import { empiricalFisherTrace } from './empirical.js';
import { exactTrace } from './exact.js';
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
  const where = 'estimateFisherTrace';
  preflight(model, where);
  const started = performance.now();
  const { estimator } = options;
  if (!(TRACE_ESTIMATORS as readonly string[]).includes(estimator)) {
    throw new InputError({
      where,
      key: 'options.estimator',
      expected: `one of ${TRACE_ESTIMATORS.join(', ')}`,
      found: JSON.stringify(estimator),
      fix: "pass a supported estimator name ('mc' for Tr(F) at one backward pass per batch)",
    });
  }
  const batchSize = positiveInteger('options.batchSize', options.batchSize ?? DEFAULT_BATCH_SIZE);
  const samples = positiveInteger('options.samples', options.samples ?? 1);
  const seed = options.seed ?? 0;
  if (!Number.isSafeInteger(seed)) {
    throw new InputError({
      where,
      key: 'options.seed',
      expected: 'an integer',
      found: String(seed),
      fix: 'pass an integer seed such as 0',
    });
  }
  const { x } = data;
  checkInputBatch(model, x, where, { key: 'data.x', finite: options.checkFinite ?? true });
  const examples = x.shape[0]!;
  const walker = new ModelWalker(model);
  const into = new TraceAccumulator();
  const uniform = traceUniform(seed);
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
  if (options.checkFinite ?? true) {
    checkFiniteScalar(
      'Tr(F)',
      value,
      where,
      'the model overflows on these inputs (weights or logits too large)',
    );
  }
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
    throw new InputError({
      where: 'estimateFisherTrace',
      key,
      expected: 'a positive integer',
      found: String(value),
      fix: 'pass e.g. 64',
    });
  }
  return value;
}

function trueLabels(data: TraceData, examples: number, model: tf.LayersModel): Int32Array {
  if (data.labels === undefined) {
    throw new InputError({
      where: 'estimateFisherTrace',
      key: 'data.labels',
      expected: "the true labels (estimator 'empirical' needs them)",
      found: 'none',
      fix: "pass data.labels (class indices, any array type or a tensor), or use estimator 'mc' for Tr(F), which needs no labels",
    });
  }
  const checked = checkClassLabels(model, data.labels, examples, 'estimateFisherTrace', 'data.labels');
  checked.dispose();
  return checked.values;
}
