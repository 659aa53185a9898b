import { tf } from '@fisherlab/engine';

/**
 * L = Σᵢ ℓ(xᵢ, yᵢ) = −Σᵢ log softmax(zᵢ)[yᵢ]: the SUM of per-example cross-entropies, so that
 * ∂L/∂zᵢ = ∂ℓᵢ/∂zᵢ and per-example gradients are not scaled by 1/B.
 */
export function summedCrossEntropy(logits: tf.Tensor2D, labels: Int32Array): tf.Scalar {
  return tf.tidy(() => {
    const classes = logits.shape[1];
    const oneHot = tf.oneHot(tf.tensor1d(labels, 'int32'), classes);
    return tf.neg(tf.sum(tf.mul(tf.logSoftmax(logits), oneHot))) as tf.Scalar;
  });
}
