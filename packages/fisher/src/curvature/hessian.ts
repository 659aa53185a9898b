import { tf } from '@fisherlab/engine';
import { hessianVectorProduct, type LabelledBatch } from '../hvp/exact.js';
import { trainableVariables } from '../hvp/parameters.js';
import { preflight } from '../model-output.js';

/**
 * Curvature of L(θ) = (1/N) Σᵢ ℓ(xᵢ, yᵢ; θ) on a fixed data subset, BatchNorm in inference mode
 * (so examples do not interact), through exact Hessian-vector products on flat float64 vectors.
 * The subset is processed in chunks of `batchSize`: H v = Σ_chunks (n_c / N) H_c v.
 */
export interface CurvatureOptions {
  /** Examples per double-backprop pass (memory bound). Default: the whole subset at once. */
  batchSize?: number;
}

export class FlatHessian {
  readonly size: number;
  private readonly shapes: number[][];
  private readonly chunks: LabelledBatch[];
  private readonly total: number;
  hvpCount = 0;

  constructor(
    private readonly model: tf.LayersModel,
    data: LabelledBatch,
    options: CurvatureOptions = {},
  ) {
    preflight(model, 'FlatHessian');
    const n = data.x.shape[0] ?? 0;
    if (data.labels.shape[0] !== n || n === 0) {
      throw new Error(
        `curvature: data.x has ${n} examples and data.labels ${data.labels.shape[0]}; pass a non-empty subset with one int32 label per example`,
      );
    }
    this.shapes = trainableVariables(model).map((v) => v.shape);
    this.size = this.shapes.reduce((s, shape) => s + shape.reduce((a, b) => a * b, 1), 0);
    const batchSize = Math.max(1, Math.min(options.batchSize ?? n, n));
    this.chunks = [];
    for (let start = 0; start < n; start += batchSize) {
      const size = Math.min(batchSize, n - start);
      this.chunks.push({
        x: start === 0 && size === n ? data.x : tf.slice(data.x, start, size),
        labels: start === 0 && size === n ? data.labels : tf.slice(data.labels, start, size),
      });
    }
    this.total = n;
  }

  /** H v for a flat vector v (model.trainableWeights order, row-major within each weight). */
  apply(v: Float64Array): Float64Array {
    this.hvpCount++;
    const out = new Float64Array(this.size);
    const direction = this.unflatten(v);
    for (const chunk of this.chunks) {
      const hv = hessianVectorProduct(this.model, chunk, direction, { training: false });
      const weight = (chunk.x.shape[0] ?? 0) / this.total;
      let offset = 0;
      for (const t of hv) {
        const data = t.dataSync();
        for (let i = 0; i < data.length; i++)
          out[offset + i] = (out[offset + i] as number) + weight * (data[i] as number);
        offset += data.length;
      }
      tf.dispose(hv);
    }
    tf.dispose(direction);
    return out;
  }

  /** The full n×n Hessian from n products with basis vectors: tiny models only (tests, checks). */
  explicit(): number[][] {
    const columns: Float64Array[] = [];
    for (let j = 0; j < this.size; j++) {
      const e = new Float64Array(this.size);
      e[j] = 1;
      columns.push(this.apply(e));
    }
    return Array.from({ length: this.size }, (_, i) => columns.map((col) => col[i] as number));
  }

  dispose(): void {
    for (const chunk of this.chunks) {
      if (this.chunks.length > 1) tf.dispose([chunk.x, chunk.labels]);
    }
  }

  private unflatten(v: Float64Array): tf.Tensor[] {
    let offset = 0;
    return this.shapes.map((shape) => {
      const size = shape.reduce((a, b) => a * b, 1);
      const t = tf.tensor(Float32Array.from(v.subarray(offset, offset + size)), shape);
      offset += size;
      return t;
    });
  }
}

export const dot = (a: Float64Array, b: Float64Array): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s;
};
