import { tf } from '@fisherlab/engine';

/**
 * Per-example ‖Aᵢᵀ Dᵢ‖²_F for layer inputs given TRANSPOSED, Aᵀ [B, K, P] (K features at P
 * positions), and output gradients D [B, P, O] at the same positions: the squared norm of a weight
 * gradient Gᵢ = Σₚ aᵢₚ δᵢₚᵀ shared across positions (conv kernels, Dense applied to sequences).
 * Aᵀ comes features-first so the big product needs no transposed operand (slow on some backends).
 * Two equal ways, the cheaper one is used:
 *   explicit: form Gᵢ = Aᵢᵀ Dᵢ (B·P·K·O multiply-adds), then Σ Gᵢ²;
 *   Gram:     ‖Aᵢᵀ Dᵢ‖² = Σ_{p,q} (Aᵢ Aᵢᵀ)_{pq} (Dᵢ Dᵢᵀ)_{pq}  (B·P²·(K+O)), better when P is small.
 */
export function perExampleProductSquaredNorm(
  aTransposed: tf.Tensor3D,
  d: tf.Tensor3D,
  method: 'auto' | 'explicit' | 'gram' = 'auto',
): tf.Tensor1D {
  return tf.tidy(() => {
    const [, k, positions] = aTransposed.shape;
    const o = d.shape[2];
    const useGram = method === 'gram' || (method === 'auto' && positions * (k + o) < k * o);
    if (useGram) {
      const gramA = tf.matMul(aTransposed, aTransposed, true, false);
      const gramD = tf.matMul(d, d, false, true);
      return tf.sum(tf.mul(gramA, gramD), [1, 2]) as tf.Tensor1D;
    }
    const g = tf.matMul(aTransposed, d);
    return tf.sum(tf.square(g), [1, 2]) as tf.Tensor1D;
  });
}
