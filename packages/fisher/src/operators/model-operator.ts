import { tf } from '@fisherlab/engine';
import { preflight } from '../model-output.js';
import { forEachBatch } from './data.js';
import { type CurvatureLoss, type CurvatureLossName, curvatureLoss } from './losses.js';
import { type CurvatureBatch, type CurvatureData, type ModelOperator, ParameterLayout } from './types.js';

export interface OperatorOptions {
  /** The per-example loss ℓ: softmax cross-entropy (default) or mse, ½‖f − y‖² (Gaussian likelihood). */
  loss?: CurvatureLossName;
}

/**
 * A curvature matrix of L(θ) = (1/N) Σᵢ ℓ(f(xᵢ; θ), yᵢ) over a data set, A = (1/N) Σ_batches A_b
 * with A_b summed over the batch's examples, applied one batch at a time: memory is one batch's
 * products, whatever N is. The model runs in inference mode (BatchNorm on its moving statistics,
 * dropout off), so examples do not interact.
 */
export abstract class ModelCurvatureOperator implements ModelOperator {
  readonly layout: ParameterLayout;
  readonly size: number;
  protected readonly loss: CurvatureLoss;
  private productCount = 0;

  constructor(
    protected readonly model: tf.LayersModel,
    protected readonly data: CurvatureData,
    protected readonly where: string,
    options: OperatorOptions = {},
  ) {
    preflight(model, where);
    this.loss = curvatureLoss(options.loss, where);
    this.layout = new ParameterLayout(model);
    this.size = this.layout.size;
  }

  /** Width C of the model's output [batch, C]. */
  protected outputWidth(): number {
    return (this.model.outputs[0]?.shape[1] as number | null) ?? 0;
  }

  get products(): number {
    return this.productCount;
  }

  /** Σ over the batch's examples of the per-example matrix times v (per-weight tensors). */
  protected abstract batchProduct(batch: CurvatureBatch, v: tf.Tensor[], index: number): tf.Tensor[];

  /** Called once before each pass (operators with seeded draws restart their stream here). */
  protected startPass(): void {}

  async apply(v: Float64Array): Promise<Float64Array> {
    const direction = this.layout.unflatten(v);
    try {
      const out = new Float64Array(this.size);
      const examples = await this.pass(direction, (product) => this.layout.accumulate(out, product));
      for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) / examples;
      return out;
    } finally {
      tf.dispose(direction);
    }
  }

  async applyPerWeight(v: tf.Tensor[]): Promise<tf.Tensor[]> {
    if (v.length !== this.layout.shapes.length) {
      throw new Error(
        `${this.where}: v has ${v.length} tensors but the model has ${this.layout.shapes.length} trainable weights; pass one tensor per model.trainableWeights entry, in that order`,
      );
    }
    let sum: tf.Tensor[] | undefined;
    const examples = await this.pass(v, (product) => {
      const next = sum
        ? sum.map((s, i) => tf.add(s, product[i] as tf.Tensor))
        : product.map((t) => tf.clone(t));
      tf.dispose(sum);
      sum = next;
    });
    const out = (sum as tf.Tensor[]).map((s) => tf.div(s, examples));
    tf.dispose(sum);
    return out;
  }

  private async pass(v: tf.Tensor[], add: (product: tf.Tensor[]) => void): Promise<number> {
    this.productCount++;
    this.startPass();
    return forEachBatch(this.data, this.where, (batch, index) => {
      const product = this.batchProduct(batch, v, index);
      try {
        add(product);
      } finally {
        tf.dispose(product);
      }
    });
  }
}
