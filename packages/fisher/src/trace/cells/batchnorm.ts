import { tf } from '@fisherlab/engine';
import type { PerExampleCell } from './types.js';
import { isTrainableWeight, layerWeight } from './weights.js';

/**
 * BatchNormalization in inference mode over the last axis: x̂ = (x − μ_moving) / √(σ²_moving + ε),
 * z = γ x̂ + β. Per example (summing over every non-channel position p):
 * ∂ℓᵢ/∂γ = Σₚ δᵢₚ ⊙ x̂ᵢₚ, ∂ℓᵢ/∂β = Σₚ δᵢₚ.
 */
export const batchNormCell: PerExampleCell = {
  className: 'BatchNormalization',
  unsupportedReason(layer) {
    const axis = Number((layer.getConfig() as Record<string, unknown>)['axis'] ?? -1);
    const rank =
      layer.inputSpec?.[0]?.ndim ?? (layer.batchInputShape ? layer.batchInputShape.length : undefined);
    if (axis === -1 || (rank !== undefined && axis === rank - 1)) return undefined;
    return `axis ${axis} (only the last axis)`;
  },
  linear(layer, input) {
    const epsilon = Number((layer.getConfig() as Record<string, unknown>)['epsilon']);
    const mean = layerWeight(layer, 'moving_mean')!;
    const variance = layerWeight(layer, 'moving_variance')!;
    const gamma = layerWeight(layer, 'gamma');
    const beta = layerWeight(layer, 'beta');
    const normalized = tf.mul(tf.sub(input, mean), tf.rsqrt(tf.add(variance, epsilon)));
    let z: tf.Tensor = gamma ? tf.mul(normalized, gamma) : normalized;
    if (beta) z = tf.add(z, beta);
    return { preActivation: z, cellInput: normalized };
  },
  activate: (_layer, preActivation) => preActivation,
  squaredGradNorms(layer, normalized, delta) {
    return tf.tidy(() => {
      const batch = delta.shape[0]!;
      const channels = delta.shape[delta.rank - 1]!;
      const d = tf.reshape(delta, [batch, -1, channels]);
      let norms = tf.zeros([batch]) as tf.Tensor1D;
      if (isTrainableWeight(layer, 'gamma')) {
        const xhat = tf.reshape(normalized, [batch, -1, channels]);
        norms = tf.add(norms, tf.sum(tf.square(tf.sum(tf.mul(d, xhat), 1)), 1));
      }
      if (isTrainableWeight(layer, 'beta')) norms = tf.add(norms, tf.sum(tf.square(tf.sum(d, 1)), 1));
      return norms;
    });
  },
};
