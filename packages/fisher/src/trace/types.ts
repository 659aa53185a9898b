import type { tf } from '@fisherlab/engine';

export const TRACE_ESTIMATORS = ['exact', 'mc', 'minibatch', 'empirical'] as const;
export type TraceEstimator = (typeof TRACE_ESTIMATORS)[number];

/** The examples to estimate on: inputs with the batch first, and (for 'empirical') their true labels. */
export interface TraceData {
  x: tf.Tensor4D | tf.Tensor2D | tf.Tensor;
  /** Class indices: any array type (Int32Array, Float32Array, number[]) or a 1-D tensor, integers in [0, classes). */
  labels?: ArrayLike<number> | tf.Tensor;
}

export interface TraceOptions {
  estimator: TraceEstimator;
  /** Examples per forward/backward pass (default 64). For 'minibatch' it is also the B of B·‖ḡ‖². */
  batchSize?: number;
  /** Seed of the label draws ŷ ∼ p(·|x) ('mc', 'minibatch'; default 0). Same seed, same draws. */
  seed?: number;
  /**
   * 'mc': label draws per example, averaged (default 1). 'minibatch': passes over the data, each
   * with fresh draws (default 1). Ignored by 'exact' and 'empirical', which have no label noise.
   */
  samples?: number;
  /**
   * Scan data.x for NaN/±Infinity first (InputError naming the first one) and throw NonFiniteError
   * on a non-finite result. Default true; false skips the scan (one read of x). Shape checks always run.
   */
  checkFinite?: boolean;
}

export interface LayerTraceEstimate {
  value: number;
  standardError: number;
}

/**
 * An estimate of Tr(F) = E_x E_{ŷ∼p(·|x)} ‖∇θ ℓ(x, ŷ)‖² over the given examples, or, for
 * estimator 'empirical', of the EMPIRICAL Fisher's trace E_x ‖∇θ ℓ(x, y)‖² at the true labels (a
 * different quantity, see `quantity`).
 */
export interface TraceEstimate {
  value: number;
  /**
   * Standard error of `value`: sd/√n over examples (exact, mc, empirical) or over batches
   * (minibatch, size-weighted); NaN with fewer than two examples or batches.
   */
  standardError: number;
  examples: number;
  estimator: TraceEstimator;
  /** 'fisher' for Tr(F); 'empirical-fisher' when true labels replaced ŷ (estimator 'empirical'). */
  quantity: 'fisher' | 'empirical-fisher';
  /** Per layer with trainable weights (tfjs layer name), over that layer's weights; the values sum to `value`. */
  perLayer: Record<string, LayerTraceEstimate>;
  /** Label draws per example ('mc') or passes over the data ('minibatch'); 1 otherwise. */
  samples: number;
  /** Wall-clock milliseconds the estimate took. */
  ms: number;
}
