import { leanVariableGrads, tf } from '@fisherlab/engine';
import { trainableVariables } from '../hvp/parameters.js';
import { traceUniform } from '../labels.js';
import { preflight } from '../model-output.js';
import { TraceAccumulator } from '../trace/accumulate.js';
import type { LayerTraceEstimate } from '../trace/types.js';
import { forEachBatch } from './data.js';
import type { FisherOperatorOptions, FisherType } from './fisher.js';
import { FISHER_TYPES } from './fisher.js';
import { type CurvatureLoss, checkTargets, curvatureLoss, type HessianFactor } from './losses.js';
import { type CurvatureData, ParameterLayout } from './types.js';

export interface FisherDiagonal {
  /** diag(F) per weight (flat, model.trainableWeights order): the mean over examples of dᵢ. */
  values: Float64Array;
  /** Standard error of each entry over examples: sd(dᵢ)/√N (NaN with one example). */
  standardErrors: Float64Array;
  /** The same, one entry per trainable weight tensor (tfjs weight name and shape). */
  perWeight: { name: string; shape: number[]; values: Float64Array; standardErrors: Float64Array }[];
  /** Σ of the diagonal over each layer's weights (tfjs layer name), with its standard error over examples. */
  perLayer: Record<string, LayerTraceEstimate>;
  /** Σ of the diagonal, Tr(F), with its standard error: the Tr(F) estimators' value for the same type and draws. */
  trace: number;
  traceStandardError: number;
  type: FisherType;
  loss: CurvatureLoss['name'];
  examples: number;
  samples: number;
  ms: number;
}

/**
 * The diagonal of the Fisher, per weight, from per-example gradients (BackPACK's DiagGGNExact and
 * DiagGGNMC, NNGeometry's PMatDiag):
 * - 'exact': dᵢ = Σ_c w_c (Jᵢᵀ r_c)² with Hℓ(fᵢ) = Σ_c w_c r_c r_cᵀ (cross-entropy: w_c = p_c,
 *   r_c = e_c − p; mse: w_c = 1, r_c = e_c), the diagonal of the GGN, which is the exact Fisher;
 * - 'mc': dᵢ = (1/S) Σₛ gᵢₛ², gᵢₛ = ∇θ ℓ(xᵢ, ŷₛ), ŷₛ ∼ p(·|xᵢ) from the Tr(F) estimators' seeded stream;
 * - 'empirical': dᵢ = gᵢ² at the true label.
 * Σ_k dᵢₖ = Tr F(xᵢ), so the sum of the diagonal is the matching Tr(F) estimate, and the layer sums
 * its per-layer values. One backward pass per example and factor (C for 'exact', S for 'mc'):
 * tfjs has no per-example gradients of arbitrary layers.
 */
export function fisherDiagonal(
  model: tf.LayersModel,
  data: CurvatureData,
  options: FisherOperatorOptions = {},
): Promise<FisherDiagonal> {
  preflight(model, 'fisherDiagonal');
  return diagonalPass(model, data, options);
}

async function diagonalPass(
  model: tf.LayersModel,
  data: CurvatureData,
  options: FisherOperatorOptions,
): Promise<FisherDiagonal> {
  const started = performance.now();
  const type = options.type ?? 'exact';
  if (!(FISHER_TYPES as readonly string[]).includes(type)) {
    throw new Error(
      `fisherDiagonal: options.type must be one of ${FISHER_TYPES.join(', ')}, found ${JSON.stringify(type)}`,
    );
  }
  const loss = curvatureLoss(options.loss, 'fisherDiagonal');
  const samples = type === 'mc' ? (options.samples ?? 1) : 1;
  const layout = new ParameterLayout(model);
  const layers = layerOfEachWeight(model);
  const sum = new Float64Array(layout.size);
  const sumOfSquares = new Float64Array(layout.size);
  const perLayer = new TraceAccumulator();
  const uniform = traceUniform(options.seed ?? 0);
  const width = (model.outputs[0]?.shape[1] as number | null) ?? 0;
  const examples = await forEachBatch(data, 'fisherDiagonal', (batch, index) => {
    const outputs = tf.tidy(() => model.apply(batch.x, { training: false }) as tf.Tensor2D);
    const factors: HessianFactor[] =
      type === 'exact'
        ? loss.factors(outputs)
        : type === 'mc'
          ? Array.from({ length: samples }, () => ({
              weights: tf.fill([outputs.shape[0]], 1 / samples) as tf.Tensor1D,
              vectors: loss.sampledGradient(outputs, uniform),
            }))
          : [
              {
                weights: null,
                vectors: loss.gradient(
                  outputs,
                  checkTargets(loss, width, batch.labels, 'fisherDiagonal', index),
                ),
              },
            ];
    outputs.dispose();
    try {
      const perExample = perExampleDiagonals(model, batch.x, factors, layout);
      const layerTotals = new Map<string, Float64Array>();
      perExample.forEach((d, i) => {
        for (let k = 0; k < d.length; k++) {
          const v = d[k] as number;
          sum[k] = (sum[k] as number) + v;
          sumOfSquares[k] = (sumOfSquares[k] as number) + v * v;
        }
        layout.ranges().forEach(([start, end], w) => {
          const name = layers[w] as string;
          let totals = layerTotals.get(name);
          if (!totals) {
            totals = new Float64Array(perExample.length);
            layerTotals.set(name, totals);
          }
          for (let k = start; k < end; k++) totals[i] = (totals[i] as number) + (d[k] as number);
        });
      });
      perLayer.add(layerTotals);
    } finally {
      for (const f of factors) tf.dispose([f.vectors, ...(f.weights ? [f.weights] : [])]);
    }
  });
  return summarize({ sum, sumOfSquares, perLayer, layout, examples, type, loss, samples, started });
}

/** dᵢ = Σ_c w_cᵢ (Jᵢᵀ r_cᵢ)² for each example of the batch: one backward pass per example and factor. */
function perExampleDiagonals(
  model: tf.LayersModel,
  x: tf.Tensor,
  factors: HessianFactor[],
  layout: ParameterLayout,
): Float64Array[] {
  const vars = trainableVariables(model);
  const batch = x.shape[0] ?? 0;
  const weights = factors.map((f) => (f.weights ? f.weights.dataSync() : null));
  const out: Float64Array[] = [];
  for (let i = 0; i < batch; i++) {
    const d = new Float64Array(layout.size);
    const xi = tf.slice(x, i, 1);
    factors.forEach((factor, c) => {
      const w = weights[c] ? (weights[c]?.[i] as number) : 1;
      if (w === 0) return;
      const grads = tf.tidy(() => {
        const r = tf.slice(factor.vectors, i, 1);
        const { grads } = leanVariableGrads(
          () => tf.sum(tf.mul(model.apply(xi, { training: false }) as tf.Tensor, r)),
          vars,
        );
        return vars.map((v) => tf.square(grads[v.name] as tf.Tensor));
      });
      layout.accumulate(d, grads, w);
      tf.dispose(grads);
    });
    xi.dispose();
    out.push(d);
  }
  return out;
}

function summarize(s: {
  sum: Float64Array;
  sumOfSquares: Float64Array;
  perLayer: TraceAccumulator;
  layout: ParameterLayout;
  examples: number;
  type: FisherType;
  loss: CurvatureLoss;
  samples: number;
  started: number;
}): FisherDiagonal {
  const n = s.examples;
  const values = s.sum.map((v) => v / n);
  const standardErrors = values.map((mean, k) =>
    n > 1
      ? Math.sqrt(Math.max(0, ((s.sumOfSquares[k] as number) - n * mean * mean) / (n - 1)) / n)
      : Number.NaN,
  );
  const ranges = s.layout.ranges();
  const { value, standardError, perLayer } = s.perLayer.summary();
  return {
    values,
    standardErrors,
    perWeight: ranges.map(([start, end], w) => ({
      name: s.layout.names[w] as string,
      shape: s.layout.shapes[w] as number[],
      values: values.subarray(start, end),
      standardErrors: standardErrors.subarray(start, end),
    })),
    perLayer,
    trace: value,
    traceStandardError: standardError,
    type: s.type,
    loss: s.loss.name,
    examples: n,
    samples: s.samples,
    ms: performance.now() - s.started,
  };
}

/** The top-level layer (tfjs name) that owns each trainable weight, in model.trainableWeights order. */
function layerOfEachWeight(model: tf.LayersModel): string[] {
  const owner = new Map<string, string>();
  for (const layer of model.layers) {
    for (const w of layer.trainableWeights) owner.set((w.read() as tf.Variable).name, layer.name);
  }
  return trainableVariables(model).map((v) => owner.get(v.name) ?? v.name);
}
