import { tf } from '@fisherlab/engine';
import { preflight } from '../model-output.js';
import { type HvpOptions, hessianVectorProduct, type LabelledBatch, lossGradient } from './exact.js';
import { dotAll, hasDropout, rademacherLike, withWeightsShifted } from './parameters.js';

export interface FiniteDifferenceHvpOptions extends HvpOptions {
  /**
   * Step length r in weight space: ε = r / ‖v‖, so θ ± εv lies at distance r from θ. Default 1e-3.
   * Smaller r drowns in float32 roundoff; larger r sees the third derivative (and, in relu / max-pool
   * nets, crosses kinks).
   */
  radius?: number;
}

/**
 * Finite-difference Hessian-vector product H v ≈ [∇L(θ + εv) − ∇L(θ − εv)] / (2ε), ε = r/‖v‖, from
 * two first-order gradients. Accurate on smooth nets (tanh, no max pooling); on relu + max-pool nets
 * in float32 it can be far off (cosine to the exact product 0.3-0.9 was measured for every ε), so
 * use it only where `checkFiniteDifferenceHvp` says it agrees on the current model. Dropout masks
 * differ between the two passes, so models with dropout in training mode are refused.
 */
export function finiteDifferenceHvp(
  model: tf.LayersModel,
  batch: LabelledBatch,
  v: tf.Tensor[],
  options: FiniteDifferenceHvpOptions = {},
): tf.Tensor[] {
  preflight(model, 'finiteDifferenceHvp');
  if (options.training && hasDropout(model)) {
    throw new Error(
      'finiteDifferenceHvp: the model has dropout and training mode is on, so the two gradients would ' +
        'use different masks; use the exact HVP (hessianVectorProduct) or training: false',
    );
  }
  const norm = Math.sqrt(dotAll(v, v));
  if (!(norm > 0)) return v.map((t) => tf.zerosLike(t));
  const eps = (options.radius ?? 1e-3) / norm;
  const plus = withWeightsShifted(model, v, eps, () => lossGradient(model, batch, options));
  const minus = withWeightsShifted(model, v, -eps, () => lossGradient(model, batch, options));
  const result = plus.map((p, i) => tf.tidy(() => tf.div(tf.sub(p, minus[i] as tf.Tensor), 2 * eps)));
  tf.dispose([...plus, ...minus]);
  return result;
}

export interface HvpAgreement {
  /** cos(H v exact, H v finite difference) over all weights. */
  cosine: number;
  /** ‖fd − exact‖ / ‖exact‖. */
  relativeError: number;
  /** cosine ≥ minCosine and relativeError ≤ maxRelativeError. */
  agrees: boolean;
  radius: number;
  probes: number;
}

/**
 * Says whether the finite-difference HVP agrees with the exact one on this model and batch, at its
 * current weights: both are computed for `probes` Rademacher vectors and the worst cosine and
 * relative error are reported. Run it before choosing method 'finite-difference' (and again when
 * the weights have moved far).
 */
export function checkFiniteDifferenceHvp(
  model: tf.LayersModel,
  batch: LabelledBatch,
  options: FiniteDifferenceHvpOptions & {
    probes?: number;
    seed?: number;
    minCosine?: number;
    maxRelativeError?: number;
  } = {},
): HvpAgreement {
  preflight(model, 'checkFiniteDifferenceHvp');
  const probes = options.probes ?? 2;
  let cosine = 1;
  let relativeError = 0;
  for (let p = 0; p < probes; p++) {
    const v = rademacherLike(model, (options.seed ?? 0) + p);
    const exact = hessianVectorProduct(model, batch, v, options);
    const fd = finiteDifferenceHvp(model, batch, v, options);
    const ee = dotAll(exact, exact);
    const ff = dotAll(fd, fd);
    const ef = dotAll(exact, fd);
    cosine = Math.min(cosine, ef / Math.sqrt(Math.max(ee * ff, 1e-300)));
    relativeError = Math.max(relativeError, Math.sqrt(Math.max(ff - 2 * ef + ee, 0) / Math.max(ee, 1e-300)));
    tf.dispose([...v, ...exact, ...fd]);
  }
  const agrees =
    cosine >= (options.minCosine ?? 0.999) && relativeError <= (options.maxRelativeError ?? 0.05);
  return { cosine, relativeError, agrees, radius: options.radius ?? 1e-3, probes };
}
