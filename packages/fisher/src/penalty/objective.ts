import { leanVariableGrads, softmaxCrossEntropy, tf } from '@fisherlab/engine';
import { lossGradient } from '../hvp/exact.js';
import {
  batchNormVariableNames,
  hasDropout,
  preservingState,
  trainableVariables,
  withWeightsShifted,
} from '../hvp/parameters.js';
import { preflight } from '../model-output.js';
import { squaredNormFloat64 } from './squared_norm.js';

export const PENALTY_METHODS = ['exact', 'finite-difference'] as const;
export type PenaltyMethod = (typeof PENALTY_METHODS)[number];

/** Which labels the penalty's ḡ uses: given ones, or ŷ drawn from the model's softmax on this pass. */
export type PenaltyLabels = tf.Tensor1D | ((probabilities: Float32Array, classes: number) => Int32Array);

export interface ObjectiveRequest {
  x: tf.Tensor;
  /** True labels of the loss term (1/B) Σ ℓ(xᵢ, yᵢ); omitted: no loss term. */
  lossLabels?: tf.Tensor1D;
  /** Labels of the penalty term α ‖ḡ‖²; omitted: no penalty term. */
  penaltyLabels?: PenaltyLabels;
  alpha: number;
  excludeBatchNorm: boolean;
  method: PenaltyMethod;
  /** r of the finite-difference HVP: ε = r / ‖ḡ‖. */
  radius: number;
  training: boolean;
}

export interface ObjectiveResult {
  loss: number | null;
  accuracy: number | null;
  penalty: number | null;
  /** The labels the penalty used (sampled or given), or null without a penalty term. */
  penaltyLabels: Int32Array | null;
  /** ∇θ of the objective, one tensor per trainable weight, in model.trainableWeights order. */
  grads: tf.Tensor[];
}

const scalarOf = (t: tf.Tensor | undefined): number | null => (t ? (t.dataSync()[0] ?? null) : null);

function accuracyOf(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.cast(tf.equal(tf.argMax(logits, 1), labels), 'float32')) as tf.Scalar);
}

function resolveLabels(labels: PenaltyLabels, logits: tf.Tensor2D): tf.Tensor1D {
  if (labels instanceof tf.Tensor) return labels;
  const softmax = tf.softmax(logits);
  const probabilities = softmax.dataSync() as Float32Array;
  softmax.dispose();
  return tf.tensor1d(labels(probabilities, logits.shape[1]), 'int32');
}

/**
 * The objective (1/B) Σ ℓ(xᵢ, yᵢ) + α ‖(1/B) Σ g(xᵢ, ŷᵢ)‖² and its gradient w.r.t. every trainable
 * weight, either term optional, from one forward pass of the model.
 *
 * Exact method: one tape holds the forward pass, the loss, and the first backward pass that forms
 * ḡ = ∇L̂ (L̂ = mean cross-entropy at the penalty labels); differentiating through it gives
 * ∇loss + α·2Hḡ. BatchNorm in training mode uses the batch's statistics in both terms, and the
 * penalty differentiates through them; dropout uses one mask for both terms.
 *
 * Finite-difference method: ḡ from first-order gradients, then 2Hḡ ≈ [∇L̂(θ+εḡ) − ∇L̂(θ−εḡ)]/ε with
 * ε = r/‖ḡ‖; the extra passes restore BatchNorm's moving statistics, and dropout is refused.
 */
export function penalizedObjective(model: tf.LayersModel, request: ObjectiveRequest): ObjectiveResult {
  preflight(model, 'penalizedObjective');
  if (!request.lossLabels && !request.penaltyLabels) {
    throw new Error('penalizedObjective: nothing to compute; pass lossLabels, penaltyLabels or both');
  }
  try {
    return request.method === 'exact' || !request.penaltyLabels
      ? exactObjective(model, request)
      : finiteDifferenceObjective(model, request);
  } catch (error) {
    throw explainOutOfMemory(error, request);
  }
}

/**
 * The wasm backend's heap stops at 4 GB; when the second-order graph does not fit, tfjs fails deep
 * inside a kernel with messages that do not mention memory ("Cannot read properties of undefined
 * (reading 'map')", "Aborted(OOM)", a bare "Aborted()" or "memory access out of bounds", the last two seen on
 * VGG-11 at batch 128). Say what most likely happened and what to change.
 */
export function explainOutOfMemory(error: unknown, request: ObjectiveRequest): unknown {
  const message = error instanceof Error ? error.message : String(error);
  const outOfMemory =
    /OOM|out of memory|allocation failed|Cannot enlarge memory|reading 'map'|memory access out of bounds|^Aborted\(\)/i;
  if (!outOfMemory.test(message)) return error;
  const batch = request.x.shape[0];
  const secondOrder = request.penaltyLabels && request.method === 'exact';
  return new Error(
    `penalizedObjective: the ${tf.getBackend()} backend most likely ran out of memory at batch size ${batch}` +
      (secondOrder ? ' while building the exact second-order (double backprop) graph' : '') +
      ` (original error: ${message}). Use a smaller batch, apply the penalty less often (every k steps), ` +
      "or method 'finite-difference' (about a plain step's memory) where checkFiniteDifferenceHvp agrees",
    { cause: error },
  );
}

function penaltyVariables(model: tf.LayersModel, excludeBatchNorm: boolean): tf.Variable[] {
  const excluded = excludeBatchNorm ? batchNormVariableNames(model) : new Set<string>();
  return trainableVariables(model).filter((v) => !excluded.has(v.name));
}

function exactObjective(model: tf.LayersModel, request: ObjectiveRequest): ObjectiveResult {
  const vars = trainableVariables(model);
  const penaltyVars = penaltyVariables(model, request.excludeBatchNorm);
  const kept: Partial<Record<'loss' | 'accuracy' | 'labels', tf.Tensor>> = {};
  let penaltyLabelValues: Int32Array | null = null;
  let penaltyValue: number | null = null;
  try {
    const grads = tf.tidy(() => {
      const { grads: named } = leanVariableGrads(() => {
        const logits = model.apply(request.x, { training: request.training }) as tf.Tensor2D;
        const terms: tf.Scalar[] = [];
        let loss: tf.Scalar | undefined;
        if (request.lossLabels) {
          loss = softmaxCrossEntropy(logits, request.lossLabels);
          kept.loss = tf.keep(loss);
          kept.accuracy = tf.keep(accuracyOf(logits, request.lossLabels));
          terms.push(loss);
        }
        if (request.penaltyLabels) {
          const labels = resolveLabels(request.penaltyLabels, logits);
          if (labels === request.penaltyLabels) penaltyLabelValues = labels.dataSync() as Int32Array;
          else kept.labels = tf.keep(labels);
          // GradNorm with the loss's own labels: L̂ is the loss already on the tape.
          const sameAsLoss = loss !== undefined && labels === request.lossLabels;
          // The inner gradient reads the forward pass recorded above on the shared tape, so the
          // model runs once (BatchNorm statistics and dropout masks shared by both terms). Under the
          // outer tape the lean walk frees nothing; it only skips the data's gradient at the first conv.
          const { grads: gBar } = leanVariableGrads(
            () => (sameAsLoss && loss ? loss : softmaxCrossEntropy(logits, labels)),
            penaltyVars,
          );
          const penaltyGrads = penaltyVars.map((v) => gBar[v.name] ?? tf.zeros(v.shape));
          const penalty = tf.addN(penaltyGrads.map((g) => tf.sum(tf.square(g)))) as tf.Scalar;
          // The float32 sum above is what gets differentiated; the value reported is summed in float64.
          penaltyValue = squaredNormFloat64(penaltyGrads);
          terms.push(tf.mul(penalty, request.alpha));
        }
        return (terms.length === 1 ? terms[0] : tf.addN(terms)) as tf.Scalar;
      }, vars);
      return vars.map((v) => named[v.name] ?? tf.zeros(v.shape));
    });
    return {
      loss: scalarOf(kept.loss),
      accuracy: scalarOf(kept.accuracy),
      penalty: penaltyValue,
      penaltyLabels:
        (kept.labels ? (kept.labels.dataSync() as Int32Array) : penaltyLabelValues)?.slice() ?? null,
      grads,
    };
  } finally {
    tf.dispose(Object.values(kept));
  }
}

function finiteDifferenceObjective(model: tf.LayersModel, request: ObjectiveRequest): ObjectiveResult {
  if (request.training && hasDropout(model)) {
    throw new Error(
      "penalizedObjective: method 'finite-difference' needs the same dropout masks in its four passes; " +
        "this model has dropout in training mode. Use method 'exact'",
    );
  }
  const vars = trainableVariables(model);
  const penaltyNames = new Set(penaltyVariables(model, request.excludeBatchNorm).map((v) => v.name));
  const { x, training } = request;
  const penaltyLabelsSpec = request.penaltyLabels as PenaltyLabels;

  // Pass 1: the loss term (a plain training step's forward and backward; updates BN statistics).
  let loss: number | null = null;
  let accuracy: number | null = null;
  let lossGrads: tf.Tensor[] | null = null;
  let logitsForSampling: tf.Tensor2D | null = null;
  if (request.lossLabels) {
    const lossLabels = request.lossLabels;
    const kept: tf.Tensor[] = [];
    lossGrads = tf.tidy(() => {
      const { grads } = leanVariableGrads(() => {
        const logits = model.apply(x, { training }) as tf.Tensor2D;
        logitsForSampling = tf.keep(logits);
        const l = softmaxCrossEntropy(logits, lossLabels);
        kept.push(tf.keep(l), tf.keep(accuracyOf(logits, lossLabels)));
        return l;
      }, vars);
      return vars.map((v) => grads[v.name] ?? tf.zeros(v.shape));
    });
    loss = scalarOf(kept[0]);
    accuracy = scalarOf(kept[1]);
    tf.dispose(kept);
  }

  // The penalty's labels, sampled from this step's logits when asked to.
  let labels: tf.Tensor1D;
  if (penaltyLabelsSpec instanceof tf.Tensor) {
    labels = penaltyLabelsSpec;
  } else {
    const logits =
      logitsForSampling ?? preservingState(model, () => model.apply(x, { training }) as tf.Tensor2D);
    labels = resolveLabels(penaltyLabelsSpec, logits);
    tf.dispose(logits);
  }
  if (logitsForSampling) tf.dispose(logitsForSampling);

  const batch = { x, labels };
  const gBar =
    lossGrads && labels === request.lossLabels
      ? lossGrads.map((g) => tf.clone(g))
      : preservingState(model, () => lossGradient(model, batch, { training }));
  // v = ḡ restricted to the penalised weights: ∇‖Pḡ‖² = 2 H P ḡ.
  const v = vars.map((w, i) => (penaltyNames.has(w.name) ? (gBar[i] as tf.Tensor) : tf.zerosLike(w)));
  const penalty = squaredNormFloat64(v);
  const norm = Math.sqrt(penalty);
  const eps = request.radius / Math.max(norm, 1e-30);
  const plus = withWeightsShifted(model, v, eps, () => lossGradient(model, batch, { training }));
  const minus = withWeightsShifted(model, v, -eps, () => lossGradient(model, batch, { training }));
  const grads = vars.map((_, i) =>
    tf.tidy(() => {
      // 2 H v ≈ [∇L̂(θ+εv) − ∇L̂(θ−εv)] / ε
      const penaltyGrad = tf.mul(tf.sub(plus[i] as tf.Tensor, minus[i] as tf.Tensor), request.alpha / eps);
      return lossGrads ? tf.add(lossGrads[i] as tf.Tensor, penaltyGrad) : penaltyGrad;
    }),
  );
  const labelValues = (labels.dataSync() as Int32Array).slice();
  tf.dispose([...plus, ...minus, ...gBar, ...v.filter((t, i) => t !== gBar[i]), ...(lossGrads ?? [])]);
  if (labels !== penaltyLabelsSpec) labels.dispose();
  return { loss, accuracy, penalty, penaltyLabels: labelValues, grads };
}
