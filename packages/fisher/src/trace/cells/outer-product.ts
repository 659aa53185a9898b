import { tf } from '@fisherlab/engine';

/**
 * Per-example ‖Aᵢᵀ Dᵢ‖²_F for A [B, P, K] (layer inputs at P positions) and D [B, P, O] (output
 * gradients at the same positions): the squared norm of a weight gradient Gᵢ = Σₚ aᵢₚ δᵢₚᵀ that is
 * shared across positions (conv kernels, Dense applied to sequences).
 * Two equal ways, the cheaper one is used:
 *   explicit: form Gᵢ = Aᵢᵀ Dᵢ (B·P·K·O multiply-adds), then Σ Gᵢ²;
 *   Gram:     ‖Aᵢᵀ Dᵢ‖² = Σ_{p,q} (Aᵢ Aᵢᵀ)_{pq} (Dᵢ Dᵢᵀ)_{pq}  (B·P²·(K+O)), better when P is small.
 */
export function perExampleProductSquaredNorm(
  a: tf.Tensor3D,
  d: tf.Tensor3D,
  method: 'auto' | 'explicit' | 'gram' = 'auto',
): tf.Tensor1D {
  return tf.tidy(() => {
    const [, positions, k] = a.shape;
    const o = d.shape[2];
    const useGram = method === 'gram' || (method === 'auto' && positions * (k + o) < k * o);
    if (useGram) {
      const gramA = tf.matMul(a, a, false, true);
      const gramD = tf.matMul(d, d, false, true);
      return tf.sum(tf.mul(gramA, gramD), [1, 2]) as tf.Tensor1D;
    }
    const g = tf.matMul(a, d, true, false);
    return tf.sum(tf.square(g), [1, 2]) as tf.Tensor1D;
  });
}
