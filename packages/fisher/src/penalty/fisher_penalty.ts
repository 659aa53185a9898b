import { InputError } from '@fisherlab/core';
import type { tf } from '@fisherlab/engine';
import { trainableVariables } from '../hvp/parameters.js';
import { type ClassLabels, checkClassLabels, checkFiniteScalar, checkInputBatch } from '../inputs.js';
import { samplePenaltyLabels } from '../labels.js';
import { preflight } from '../model-output.js';
import { type PenaltyMethod, penalizedObjective } from './objective.js';
import { assertExactPenaltySupported } from './supported-layers.js';

export const PENALTY_KINDS = ['fisher', 'gradnorm'] as const;
export type PenaltyKind = (typeof PENALTY_KINDS)[number];

export interface FisherPenaltyOptions {
  /** 'fisher': ŷ sampled from the model's softmax (the Fisher penalty); 'gradnorm': the true labels. */
  kind: PenaltyKind;
  /** α in (1/B) Σ ℓ + α ‖ḡ‖². */
  alpha: number;
  /** Apply the penalty every k-th step (steps 0, k, 2k, ...); other steps are plain. Default 1. */
  every?: number;
  /**
   * Leave BatchNormalization gamma/beta out of ‖ḡ‖² (their gradients are still updated). Default
   * EXCLUDE_BATCH_NORM_DEFAULT (false): ‖ḡ‖² then runs over the same weights as the Tr(F) it stands
   * for (the estimators sum over every trainable weight).
   */
  excludeBatchNorm?: boolean;
  /** 'exact' (double backprop, default) or 'finite-difference' (check it first: checkFiniteDifferenceHvp). */
  method?: PenaltyMethod;
  /** Seed of the label sampler; step s draws from (seed, s). Default 0. */
  seed?: number;
  /** Finite-difference step r (ε = r/‖ḡ‖). Default 1e-3. */
  radius?: number;
  /**
   * Scan x for NaN/±Infinity before the step and throw NonFiniteError when the loss or the penalty
   * comes out non-finite. Default true; false skips the scan (one read of x per step) and returns
   * NaN instead of throwing. Shape and label checks always run.
   */
  checkFinite?: boolean;
}

/** The one default of `excludeBatchNorm` (FisherPenalty, penaltyValueAndGradient and train()'s spec). */
export const EXCLUDE_BATCH_NORM_DEFAULT = false;

export interface PenalizedStep {
  /** (1/B) Σ ℓ(xᵢ, yᵢ) with the true labels. */
  loss: number;
  accuracy: number;
  /** ‖ḡ‖² on penalised steps, null on the others. */
  penalty: number | null;
  applied: boolean;
  /** The ŷ (fisher) or y (gradnorm) the penalty used, null on plain steps. */
  penaltyLabels: Int32Array | null;
  /** ∇θ of the step's objective, in model.trainableWeights order (the caller disposes them). */
  grads: tf.Tensor[];
  /** The same tensors keyed by variable name, for optimizer.applyGradients. */
  namedGrads: tf.NamedTensorMap;
}

function invalid(key: string, expected: string, found: unknown, fix: string): InputError {
  return new InputError({
    where: 'FisherPenalty',
    key: `options.${key}`,
    expected,
    found: JSON.stringify(found),
    fix,
  });
}

/**
 * The Fisher penalty (or GradNorm) as a training-step component, optimizer-agnostic:
 *   objective = (1/B) Σᵢ ℓ(xᵢ, yᵢ) + α ‖(1/B) Σᵢ g(xᵢ, ŷᵢ)‖²,  ŷᵢ ∼ p(·|xᵢ; θ) (fisher) or ŷᵢ = yᵢ (gradnorm),
 * with ŷ drawn fresh each penalised step from that step's forward pass and held fixed while the
 * gradient is formed. The model runs once, in training mode: the penalty sees BatchNorm's batch
 * statistics (and differentiates through them) and the same dropout mask as the loss.
 */
export class FisherPenalty {
  readonly kind: PenaltyKind;
  readonly alpha: number;
  readonly every: number;
  readonly excludeBatchNorm: boolean;
  readonly method: PenaltyMethod;
  readonly seed: number;
  readonly radius: number;
  readonly checkFinite: boolean;

  constructor(options: FisherPenaltyOptions) {
    if (options.kind !== 'fisher' && options.kind !== 'gradnorm') {
      throw invalid('kind', "'fisher' or 'gradnorm'", options.kind, "use 'fisher' for FP, 'gradnorm' for GN");
    }
    if (!Number.isFinite(options.alpha) || options.alpha < 0) {
      throw invalid('alpha', 'a finite number ≥ 0', options.alpha, 'the paper-style range is about 0.01-0.5');
    }
    const every = options.every ?? 1;
    if (!Number.isInteger(every) || every < 1) {
      throw invalid('every', 'an integer ≥ 1', every, 'use 1 to penalise every step, 10 for every tenth');
    }
    const method = options.method ?? 'exact';
    if (method !== 'exact' && method !== 'finite-difference') {
      throw invalid(
        'method',
        "'exact' or 'finite-difference'",
        method,
        "use 'exact' unless a check allows finite differences",
      );
    }
    const radius = options.radius ?? 1e-3;
    if (!(radius > 0)) throw invalid('radius', 'a number > 0', radius, 'try 1e-3');
    this.kind = options.kind;
    this.alpha = options.alpha;
    this.every = every;
    this.excludeBatchNorm = options.excludeBatchNorm ?? EXCLUDE_BATCH_NORM_DEFAULT;
    this.method = method;
    this.seed = options.seed ?? 0;
    this.radius = radius;
    this.checkFinite = options.checkFinite ?? true;
  }

  /** Whether step `step` (0-based) is penalised. */
  appliesAt(step: number): boolean {
    return step % this.every === 0;
  }

  /**
   * Loss, accuracy, penalty and the gradient of the step's objective for one batch. `labels` are class
   * indices of any array type or tensor (integers in [0, classes)); `step` (0-based) is required: it
   * picks the penalized steps (`every`) and seeds ŷ. Plain steps (not `appliesAt(step)`) cost one
   * forward and one backward pass. Bad input throws InputError before any kernel runs; a
   * non-finite loss or penalty throws NonFiniteError (unless `checkFinite: false`).
   */
  step(model: tf.LayersModel, x: tf.Tensor, labels: ClassLabels, step: number): PenalizedStep {
    const where = 'FisherPenalty.step';
    preflight(model, where);
    if (!Number.isInteger(step) || step < 0) {
      throw new InputError({
        where,
        key: 'step',
        expected: 'the 0-based index of the training step (an integer ≥ 0)',
        found: String(step),
        fix: 'pass your step counter as the fourth argument: penalty.step(model, x, labels, step)',
      });
    }
    checkInputBatch(model, x, where, { finite: this.checkFinite });
    if (this.method === 'exact') assertExactPenaltySupported(model, where);
    const checked = checkClassLabels(model, labels, x.shape[0] as number, where);
    const applied = this.appliesAt(step);
    let result: ReturnType<typeof penalizedObjective>;
    try {
      result = penalizedObjective(model, {
        x,
        lossLabels: checked.tensor,
        penaltyLabels: !applied
          ? undefined
          : this.kind === 'gradnorm'
            ? checked.tensor
            : (probabilities, classes) => samplePenaltyLabels(probabilities, classes, this.seed, step),
        alpha: this.alpha,
        excludeBatchNorm: this.excludeBatchNorm,
        method: this.method,
        radius: this.radius,
        training: true,
      });
    } finally {
      checked.dispose();
    }
    if (this.checkFinite) {
      try {
        const fix = 'lower the learning rate or alpha, or check the inputs';
        checkFiniteScalar('loss', result.loss, where, fix);
        checkFiniteScalar('penalty', applied ? result.penalty : null, where, fix);
      } catch (error) {
        for (const g of result.grads) g.dispose();
        throw error;
      }
    }
    const namedGrads: tf.NamedTensorMap = {};
    trainableVariables(model).forEach((v, i) => {
      namedGrads[v.name] = result.grads[i] as tf.Tensor;
    });
    return {
      loss: result.loss ?? Number.NaN,
      accuracy: result.accuracy ?? Number.NaN,
      penalty: applied ? result.penalty : null,
      applied,
      penaltyLabels: result.penaltyLabels,
      grads: result.grads,
      namedGrads,
    };
  }
}
