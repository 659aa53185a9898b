import { softmaxCrossEntropy, tf } from '@fisherlab/engine';
import { sampleLabels, type Uniform } from '../labels.js';

export const CURVATURE_LOSSES = ['cross-entropy', 'mse'] as const;
export type CurvatureLossName = (typeof CURVATURE_LOSSES)[number];

/** One term of a loss Hessian written as Hℓ = Σ_c w_c r_c r_cᵀ (per example): weights [B], vectors [B, C]. */
export interface HessianFactor {
  weights: tf.Tensor1D | null;
  vectors: tf.Tensor2D;
}

/**
 * A per-example loss ℓ(f, y) of the model's outputs f, with what the Fisher and the GGN need of it.
 * Both losses are negative log-likelihoods with the outputs as natural parameters, so the Fisher
 * E_{ŷ∼p(·|f)}[∇_f ℓ ∇_f ℓᵀ] equals the loss Hessian Hℓ and the exact Fisher equals the GGN.
 */
export interface CurvatureLoss {
  readonly name: CurvatureLossName;
  /** Σᵢ ℓ(fᵢ, yᵢ) over the batch (recorded on the tape when one is active). */
  sum(outputs: tf.Tensor2D, labels: tf.Tensor): tf.Scalar;
  /** ∇_f ℓ(fᵢ, yᵢ) per example, [B, C]. */
  gradient(outputs: tf.Tensor2D, labels: tf.Tensor): tf.Tensor2D;
  /** Hℓ(fᵢ) uᵢ per example, [B, C]. */
  hessianTimes(outputs: tf.Tensor2D, u: tf.Tensor2D): tf.Tensor2D;
  /** ∇_f ℓ(fᵢ, ŷᵢ) for a target ŷᵢ ∼ p(·|fᵢ) drawn from `uniform` (one draw per example, in order). */
  sampledGradient(outputs: tf.Tensor2D, uniform: Uniform): tf.Tensor2D;
  /** Hℓ = Σ_c w_c r_c r_cᵀ, one factor per class/output (C of them). */
  factors(outputs: tf.Tensor2D): HessianFactor[];
  /** The targets `labels` must be: names dtype and shape for error messages. */
  readonly targets: string;
}

/**
 * Softmax cross-entropy, ℓ = −log softmax(f)[y]; ∇_f ℓ = p − e_y; Hℓ = diag(p) − ppᵀ, which is
 * Σ_c p_c (e_c − p)(e_c − p)ᵀ (the factors of the exact diagonal).
 */
export const crossEntropy: CurvatureLoss = {
  name: 'cross-entropy',
  targets: 'int32 class indices of shape [batch]',
  sum: (outputs, labels) =>
    tf.mul(softmaxCrossEntropy(outputs, labels as tf.Tensor1D), outputs.shape[0]) as tf.Scalar,
  gradient: (outputs, labels) =>
    tf.tidy(() =>
      tf.sub(tf.softmax(outputs), tf.oneHot(tf.cast(labels, 'int32') as tf.Tensor1D, outputs.shape[1])),
    ),
  hessianTimes: (outputs, u) =>
    tf.tidy(() => {
      const p = tf.softmax(outputs);
      return tf.sub(tf.mul(p, u), tf.mul(p, tf.sum(tf.mul(p, u), 1, true)));
    }),
  sampledGradient: (outputs, uniform) =>
    tf.tidy(() => {
      const p = tf.softmax(outputs);
      const classes = outputs.shape[1];
      const drawn = sampleLabels(p.dataSync(), classes, uniform);
      return tf.sub(p, tf.oneHot(tf.tensor1d(drawn, 'int32'), classes));
    }),
  factors: (outputs) => {
    const classes = outputs.shape[1];
    const p = tf.softmax(outputs);
    const out = Array.from({ length: classes }, (_, c) => ({
      weights: tf.tidy(() => tf.reshape(tf.slice(p, [0, c], [-1, 1]), [-1])) as tf.Tensor1D,
      vectors: tf.tidy(() =>
        tf.sub(tf.oneHot(tf.fill([outputs.shape[0]], c, 'int32') as tf.Tensor1D, classes), p),
      ) as tf.Tensor2D,
    }));
    p.dispose();
    return out;
  },
};

/**
 * The Gaussian likelihood with unit variance, ℓ = ½‖f − y‖² (the mean squared error up to its
 * factor); ∇_f ℓ = f − y; Hℓ = I; a sampled target ŷ = f + ε, ε ∼ N(0, I), gives ∇_f ℓ = −ε.
 */
export const meanSquaredError: CurvatureLoss = {
  name: 'mse',
  targets: 'float targets of shape [batch, outputs]',
  sum: (outputs, labels) =>
    tf.tidy(() => tf.mul(0.5, tf.sum(tf.squaredDifference(outputs, labels)))) as tf.Scalar,
  gradient: (outputs, labels) => tf.sub(outputs, labels),
  hessianTimes: (_outputs, u) => tf.clone(u),
  sampledGradient: (outputs, uniform) => {
    const noise = new Float32Array(outputs.size);
    for (let i = 0; i < noise.length; i++) noise[i] = -standardNormal(uniform);
    return tf.tensor2d(noise, outputs.shape);
  },
  factors: (outputs) => {
    const [batch, width] = outputs.shape;
    return Array.from({ length: width }, (_, c) => ({
      weights: null,
      vectors: tf.oneHot(tf.fill([batch], c, 'int32') as tf.Tensor1D, width) as tf.Tensor2D,
    }));
  },
};

/** A standard normal draw by Box-Muller from two uniforms of the seeded stream. */
function standardNormal(uniform: Uniform): number {
  const u1 = Math.max(uniform(), Number.MIN_VALUE);
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * uniform());
}

export function curvatureLoss(name: CurvatureLossName | undefined, where: string): CurvatureLoss {
  if (name === undefined || name === 'cross-entropy') return crossEntropy;
  if (name === 'mse') return meanSquaredError;
  throw new Error(
    `${where}: options.loss must be one of ${CURVATURE_LOSSES.join(', ')}, found ${JSON.stringify(name)}`,
  );
}

/** Refuses labels that do not fit the loss (dtype/shape), naming the batch and the expected form. */
export function checkTargets(
  loss: CurvatureLoss,
  width: number,
  labels: tf.Tensor | undefined,
  where: string,
  index: number,
): tf.Tensor {
  const ok =
    labels !== undefined &&
    (loss.name === 'cross-entropy'
      ? labels.rank === 1
      : labels.rank === 2 && labels.shape[1] === width && labels.dtype === 'float32');
  if (!ok) {
    throw new Error(
      `${where}: batch ${index} needs labels as ${loss.targets} for loss '${loss.name}', found ${
        labels === undefined ? 'none' : `${labels.dtype} of shape [${labels.shape}]`
      }; pass batches { x, labels } in that form`,
    );
  }
  return labels;
}
