import type { tf } from '@fisherlab/engine';
import { type ClassLabels, checkClassLabels, checkInputBatch } from '../inputs.js';
import { preflight } from '../model-output.js';
import { EXCLUDE_BATCH_NORM_DEFAULT } from './fisher_penalty.js';
import { type PenaltyMethod, penalizedObjective } from './objective.js';
import { assertExactPenaltySupported } from './supported-layers.js';

export interface PenaltyGradientOptions {
  /** Model mode while the penalty is formed. Default true: what a training step sees (BatchNorm on batch statistics). */
  training?: boolean;
  /** Leave BatchNormalization weights (gamma, beta) out of ‖ḡ‖². Default EXCLUDE_BATCH_NORM_DEFAULT (false). */
  excludeBatchNorm?: boolean;
  /** Default 'exact' (double backprop). */
  method?: PenaltyMethod;
  /** Finite-difference step r, ε = r / ‖ḡ‖. Default 1e-3. */
  radius?: number;
}

export interface PenaltyValueAndGradient {
  /** ‖ḡ‖², ḡ = (1/B) Σᵢ ∇θ ℓ(xᵢ, yᵢ) over the penalised weights. */
  value: number;
  /** ∇θ ‖ḡ‖² = 2 H ḡ, one tensor per trainable weight, in model.trainableWeights order (caller disposes). */
  grads: tf.Tensor[];
}

/**
 * The Fisher-penalty value ‖(1/B) Σᵢ g(xᵢ, yᵢ)‖² and its gradient 2 H ḡ for this model, this batch
 * and these given labels (the sampled ŷ of a Fisher-penalty step, or the true labels for GradNorm),
 * so a step can be checked from outside.
 */
export function penaltyValueAndGradient(
  model: tf.LayersModel,
  x: tf.Tensor,
  labels: ClassLabels,
  options: PenaltyGradientOptions = {},
): PenaltyValueAndGradient {
  const where = 'penaltyValueAndGradient';
  preflight(model, where);
  checkInputBatch(model, x, where);
  const method = options.method ?? 'exact';
  if (method === 'exact') assertExactPenaltySupported(model, where);
  const checked = checkClassLabels(model, labels, x.shape[0] as number, where);
  try {
    const result = penalizedObjective(model, {
      x,
      penaltyLabels: checked.tensor,
      alpha: 1,
      excludeBatchNorm: options.excludeBatchNorm ?? EXCLUDE_BATCH_NORM_DEFAULT,
      method,
      radius: options.radius ?? 1e-3,
      training: options.training ?? true,
    });
    return { value: result.penalty ?? 0, grads: result.grads };
  } finally {
    checked.dispose();
  }
}
