import * as tf from '@tensorflow/tfjs';

/**
 * y = (x − μ) · s · γ + β with s = (σ² + ε)^(−½), x̂ = (x − μ)·s; μ, σ², γ, β broadcast against x
 * (per channel). Sums run over the axes each parameter was broadcast along:
 *   ∂x = dy · (γ s)                     ∂μ = −Σ dy · (γ s)
 *   ∂σ² = Σ(dy · x̂) · (−½ γ s²)         ∂γ = Σ dy · x̂          ∂β = Σ dy
 * The stock gradient tiles s to the full activation shape (an x-sized tensor whose Tile gradient
 * cost thousands of kernels under double backprop) and builds four x-sized products; here
 * broadcasting replaces the tile and Σ dy·x̂ is shared by ∂σ² and ∂γ, which halves the x-sized
 * tensors the second-order pass has to keep.
 */
export const fusedBatchNormGradConfig: tf.GradConfig = {
  kernelName: tf.FusedBatchNorm,
  inputsToSave: ['x', 'mean', 'variance', 'scale'],
  gradFunc: (dy, saved, attrs) => {
    const [x, mean, variance, scale] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor | undefined];
    const { varianceEpsilon } = attrs as unknown as tf.FusedBatchNormAttrs;
    const dyT = dy as tf.Tensor;
    const gamma = scale ?? tf.scalar(1);
    const invStd = tf.rsqrt(tf.add(variance, varianceEpsilon));
    const gammaInvStd = tf.mul(gamma, invStd);
    const reduceTo = (t: tf.Tensor, shape: number[]): tf.Tensor => {
      const axes = tf.backend_util.getReductionAxes(shape, t.shape);
      return tf.reshape(axes.length > 0 ? tf.sum(t, axes) : t, shape);
    };
    // Shared by ∂μ/∂β and by ∂σ²/∂γ.
    const sumDy = reduceTo(dyT, mean.shape);
    const sumDyXHat = reduceTo(tf.mul(dyT, tf.mul(tf.sub(x, mean), invStd)), mean.shape);
    return {
      x: () => tf.mul(dyT, gammaInvStd),
      mean: () => tf.reshape(tf.neg(tf.mul(sumDy, reduceTo(gammaInvStd, mean.shape))), mean.shape),
      variance: () =>
        tf.reshape(
          tf.mul(
            sumDyXHat,
            tf.mul(tf.mul(reduceTo(gammaInvStd, variance.shape), reduceTo(invStd, variance.shape)), -0.5),
          ),
          variance.shape,
        ),
      scale: () => tf.reshape(sumDyXHat, (scale ?? mean).shape),
      offset: () => tf.reshape(sumDy, mean.shape),
    };
  },
};
