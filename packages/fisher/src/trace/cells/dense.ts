import { tf } from '@fisherlab/engine';
import { perExampleProductSquaredNorm } from './outer-product.js';
import type { PerExampleCell } from './types.js';
import { applyLayerActivation, isTrainableWeight, layerWeight } from './weights.js';

/**
 * Dense: z = a W + b.
 * Rank-2 input: ∂ℓᵢ/∂W = aᵢ δᵢᵀ, so ‖∂ℓᵢ/∂W‖² = ‖aᵢ‖² ‖δᵢ‖², and ‖∂ℓᵢ/∂b‖² = ‖δᵢ‖².
 * Higher-rank input (Dense over the last axis of [B, ..., in]): W is shared over the P middle
 * positions, ∂ℓᵢ/∂W = Aᵢᵀ Δᵢ and ∂ℓᵢ/∂b = Σₚ δᵢₚ.
 */
export const denseCell: PerExampleCell = {
  className: 'Dense',
  unsupportedReason: (layer) => (layerWeight(layer, 'kernel') ? undefined : 'no kernel weight'),
  linear(layer, input) {
    const kernel = layerWeight(layer, 'kernel')!;
    const bias = layerWeight(layer, 'bias');
    const units = kernel.shape[1]!;
    const flat = input.rank === 2 ? input : tf.reshape(input, [-1, input.shape[input.rank - 1]!]);
    let z: tf.Tensor = tf.matMul(flat as tf.Tensor2D, kernel as tf.Tensor2D);
    if (bias) z = tf.add(z, bias);
    if (input.rank !== 2) z = tf.reshape(z, [...input.shape.slice(0, -1), units]);
    return { preActivation: z, cellInput: input };
  },
  activate: applyLayerActivation,
  squaredGradNorms(layer, input, delta) {
    return tf.tidy(() => {
      const kernelTrainable = isTrainableWeight(layer, 'kernel');
      const biasTrainable = isTrainableWeight(layer, 'bias');
      const batch = input.shape[0]!;
      let norms = tf.zeros([batch]) as tf.Tensor1D;
      if (input.rank === 2) {
        const deltaSq = tf.sum(tf.square(delta), 1);
        if (kernelTrainable) norms = tf.add(norms, tf.mul(tf.sum(tf.square(input), 1), deltaSq));
        if (biasTrainable) norms = tf.add(norms, deltaSq);
        return norms;
      }
      const a = tf.transpose(
        tf.reshape(input, [batch, -1, input.shape[input.rank - 1]!]),
        [0, 2, 1],
      ) as tf.Tensor3D;
      const d = tf.reshape(delta, [batch, -1, delta.shape[delta.rank - 1]!]) as tf.Tensor3D;
      if (kernelTrainable) norms = tf.add(norms, perExampleProductSquaredNorm(a, d));
      if (biasTrainable) norms = tf.add(norms, tf.sum(tf.square(tf.sum(d, 1)), 1));
      return norms;
    });
  },
};
