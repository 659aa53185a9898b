import type { tf } from '@fisherlab/engine';
import { hessianVectorProduct } from '../hvp/exact.js';
import { checkTargets } from './losses.js';
import { ModelCurvatureOperator, type OperatorOptions } from './model-operator.js';
import type { CurvatureBatch, CurvatureData } from './types.js';

/**
 * The Hessian H = ∇²_θ L(θ) of the mean loss over the data (true labels), by exact double-backprop
 * Hessian-vector products per batch: H v = (1/N) Σ_b B_b H_b v, H_b the Hessian of the batch mean.
 */
export class HessianOperator extends ModelCurvatureOperator {
  constructor(model: tf.LayersModel, data: CurvatureData, options: OperatorOptions = {}) {
    super(model, data, 'HessianOperator', options);
  }

  protected batchProduct(batch: CurvatureBatch, v: tf.Tensor[], index: number): tf.Tensor[] {
    const size = batch.x.shape[0] ?? 0;
    const labels = checkTargets(this.loss, this.outputWidth(), batch.labels, this.where, index);
    const hv = hessianVectorProduct(this.model, { x: batch.x, labels }, v, {
      training: false,
      loss: this.loss.name,
    });
    return hv.map((t) => {
      const scaled = t.mul(size);
      t.dispose();
      return scaled;
    });
  }
}
