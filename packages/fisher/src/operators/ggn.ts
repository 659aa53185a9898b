import type { tf } from '@fisherlab/engine';
import { ModelCurvatureOperator, type OperatorOptions } from './model-operator.js';
import { outputSpaceProduct } from './products.js';
import type { CurvatureBatch, CurvatureData } from './types.js';

/**
 * The generalized Gauss-Newton matrix G = (1/N) Σᵢ Jᵢᵀ Hℓ(fᵢ) Jᵢ, Jᵢ = ∂f(xᵢ)/∂θ, Hℓ = ∇²_f ℓ.
 * For softmax cross-entropy and the Gaussian likelihood (mse) Hℓ does not depend on the label, and
 * G is the exact Fisher (`FisherOperator` with type 'exact' is this operator). Needs no labels.
 * Each batch: J v by the double-vjp trick, Hℓ (J v) in output space, one vjp.
 */
export class GGNOperator extends ModelCurvatureOperator {
  constructor(
    model: tf.LayersModel,
    data: CurvatureData,
    options: OperatorOptions = {},
    where = 'GGNOperator',
  ) {
    super(model, data, where, options);
  }

  protected batchProduct(batch: CurvatureBatch, v: tf.Tensor[]): tf.Tensor[] {
    return outputSpaceProduct(this.model, batch.x, v, (outputs, jv) => this.loss.hessianTimes(outputs, jv));
  }
}
