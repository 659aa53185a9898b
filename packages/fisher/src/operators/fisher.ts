import type { tf } from '@fisherlab/engine';
import { traceUniform, type Uniform } from '../labels.js';
import { GGNOperator } from './ggn.js';
import { checkTargets } from './losses.js';
import { ModelCurvatureOperator, type OperatorOptions } from './model-operator.js';
import { outerProductTimes, outputSpaceProduct } from './products.js';
import type { CurvatureBatch, CurvatureData, ModelOperator } from './types.js';

export const FISHER_TYPES = ['exact', 'mc', 'empirical'] as const;
export type FisherType = (typeof FISHER_TYPES)[number];

export interface FisherOperatorOptions extends OperatorOptions {
  /**
   * 'exact' (default): E_{ŷ∼p(·|x)} over every class, which equals the GGN; 'mc': `samples` seeded
   * draws ŷ ∼ p(·|x) per example; 'empirical': the true labels (the empirical Fisher, not F).
   */
  type?: FisherType;
  /** Draws per example for 'mc' (default 1). */
  samples?: number;
  /** Seed of the 'mc' draws (default 0): the same draws on every product, so the operator is fixed. */
  seed?: number;
}

/**
 * The Fisher F = (1/N) Σᵢ E_{ŷ∼p(·|xᵢ)}[gᵢ gᵢᵀ], gᵢ = ∇θ ℓ(xᵢ, ŷ) = Jᵢᵀ rᵢ with rᵢ = ∇_f ℓ(fᵢ, ŷ).
 * 'mc' replaces the expectation by S draws: F̂ v = (1/N) Σᵢ (1/S) Σₛ Jᵢᵀ rᵢₛ (rᵢₛ · Jᵢ v), one batched
 * J v, the rank-one terms in output space, one vjp. The draws follow the Tr(F) estimators' seeded
 * stream (batch by batch, in order), restarted each product. 'empirical' uses rᵢ at the true label.
 */
export function fisherOperator(
  model: tf.LayersModel,
  data: CurvatureData,
  options: FisherOperatorOptions = {},
): ModelOperator {
  const type = options.type ?? 'exact';
  if (!(FISHER_TYPES as readonly string[]).includes(type)) {
    throw new Error(
      `fisherOperator: options.type must be one of ${FISHER_TYPES.join(', ')}, found ${JSON.stringify(type)}`,
    );
  }
  if (type === 'exact') return new GGNOperator(model, data, options, 'fisherOperator');
  return new SampledFisherOperator(model, data, { ...options, type });
}

class SampledFisherOperator extends ModelCurvatureOperator {
  private uniform: Uniform = traceUniform(0);
  private readonly samples: number;

  constructor(
    model: tf.LayersModel,
    data: CurvatureData,
    private readonly options: FisherOperatorOptions & { type: 'mc' | 'empirical' },
  ) {
    super(model, data, 'fisherOperator', options);
    this.samples = options.type === 'mc' ? (options.samples ?? 1) : 1;
    if (!Number.isInteger(this.samples) || this.samples < 1) {
      throw new Error(`fisherOperator: options.samples must be a positive integer, found ${this.samples}`);
    }
  }

  protected override startPass(): void {
    this.uniform = traceUniform(this.options.seed ?? 0);
  }

  protected batchProduct(batch: CurvatureBatch, v: tf.Tensor[], index: number): tf.Tensor[] {
    const labels =
      this.options.type === 'empirical'
        ? checkTargets(this.loss, this.outputWidth(), batch.labels, this.where, index)
        : undefined;
    return outputSpaceProduct(this.model, batch.x, v, (outputs, jv) => {
      const gradients = labels
        ? [this.loss.gradient(outputs, labels)]
        : Array.from({ length: this.samples }, () => this.loss.sampledGradient(outputs, this.uniform));
      try {
        return outerProductTimes(gradients, jv);
      } finally {
        for (const g of gradients) g.dispose();
      }
    });
  }
}
