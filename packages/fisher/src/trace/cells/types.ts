import type { tf } from '@fisherlab/engine';

/**
 * How one layer type yields per-example squared gradient norms from a single backward pass
 * (BackPACK's BatchL2Grad, one cell per layer type). The walker computes the layer's
 * pre-activation z with `linear`, adds a zero perturbation whose gradient is δ = ∂L/∂z, and
 * `squaredGradNorms` turns the saved cell input and δ into Σ_weights ‖∂ℓᵢ/∂w‖² for every example i.
 * With L = Σᵢ ℓᵢ and examples that do not interact, δᵢ = ∂ℓᵢ/∂zᵢ.
 */
export interface PerExampleCell {
  /** tfjs class name of the layers this cell handles. */
  readonly className: string;
  /** Why this layer's configuration is not covered (it then falls back to the per-example loop). */
  unsupportedReason(layer: tf.layers.Layer): string | undefined;
  /** The layer's output before its activation, and the tensor `squaredGradNorms` needs later. */
  linear(layer: tf.layers.Layer, input: tf.Tensor): { preActivation: tf.Tensor; cellInput: tf.Tensor };
  /** The layer's activation applied to the (perturbed) pre-activation. */
  activate(layer: tf.layers.Layer, preActivation: tf.Tensor): tf.Tensor;
  /** [batch] tensor: for each example, the squared norm of its gradient w.r.t. the layer's trainable weights. */
  squaredGradNorms(layer: tf.layers.Layer, cellInput: tf.Tensor, preActivationGrad: tf.Tensor): tf.Tensor1D;
}
