import type { tf } from '@fisherlab/engine';
import { preflight } from '../model-output.js';
import { type PenaltyMethod, penalizedObjective } from './objective.js';

export interface PenaltyGradientOptions {
  /** Model mode while the penalty is formed. Default true: what a training step sees (BatchNorm on batch statistics). */
  training?: boolean;
  /** Leave BatchNormalization weights (gamma, beta) out of ‖ḡ‖². Default false. */
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
  labels: tf.Tensor1D,
  options: PenaltyGradientOptions = {},
): PenaltyValueAndGradient {
  preflight(model, 'penaltyValueAndGradient');
  const result = penalizedObjective(model, {
    x,
    penaltyLabels: labels,
    alpha: 1,
    excludeBatchNorm: options.excludeBatchNorm ?? false,
    method: options.method ?? 'exact',
    radius: options.radius ?? 1e-3,
    training: options.training ?? true,
  });
  return { value: result.penalty ?? 0, grads: result.grads };
}
