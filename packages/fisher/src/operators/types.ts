import { tf } from '@fisherlab/engine';
import { trainableVariables } from '../hvp/parameters.js';

/**
 * A symmetric linear operator A on ℝⁿ, known only through its products: `apply(v)` = A v for a flat
 * float64 vector. Every curvature algorithm (Hutchinson, Lanczos, power iteration, stochastic
 * Lanczos quadrature) takes one, so any operator works with any algorithm (curvlinops' idea).
 */
export interface LinearOperator {
  readonly size: number;
  apply(v: Float64Array): Float64Array | Promise<Float64Array>;
}

/**
 * One batch of a curvature data set: inputs with the example axis first and, where the operator
 * needs them, targets: int32 class indices [batch] for cross-entropy, float targets [batch, outputs]
 * for the mean squared error.
 */
export interface CurvatureBatch {
  x: tf.Tensor;
  labels?: tf.Tensor;
}

/**
 * The data an operator averages over: any iterable or async iterable of batches that starts a new
 * pass each time it is iterated (an array, `batchesOf(...)`, or an object whose
 * `[Symbol.asyncIterator]` calls an async generator). Every product is one pass over it. The source
 * owns its tensors: a yielded batch is only read until the next one is requested.
 */
export type CurvatureData = Iterable<CurvatureBatch> | AsyncIterable<CurvatureBatch>;

/**
 * The model's trainable weights (model.trainableWeights order) laid out as one flat vector,
 * row-major within each weight: converts between flat vectors and per-weight tensors.
 */
export class ParameterLayout {
  readonly shapes: number[][];
  readonly sizes: number[];
  readonly names: string[];
  readonly size: number;

  constructor(model: tf.LayersModel) {
    const vars = trainableVariables(model);
    this.shapes = vars.map((v) => v.shape);
    this.sizes = this.shapes.map((shape) => shape.reduce((a, b) => a * b, 1));
    this.names = model.trainableWeights.map((w) => w.originalName);
    this.size = this.sizes.reduce((a, b) => a + b, 0);
  }

  /** float32 tensors shaped like the weights, from a flat vector. */
  unflatten(v: Float64Array): tf.Tensor[] {
    if (v.length !== this.size) {
      throw new Error(
        `operator: the vector has ${v.length} entries but the model has ${this.size} trainable weights; pass a vector of operator.size entries`,
      );
    }
    let offset = 0;
    return this.shapes.map((shape, i) => {
      const size = this.sizes[i] as number;
      const t = tf.tensor(Float32Array.from(v.subarray(offset, offset + size)), shape);
      offset += size;
      return t;
    });
  }

  /** Adds `weight` × the tensors (per weight, in layout order) into the flat float64 vector `into`. */
  accumulate(into: Float64Array, tensors: tf.Tensor[], weight = 1): void {
    let offset = 0;
    for (const t of tensors) {
      const data = t.dataSync();
      for (let i = 0; i < data.length; i++)
        into[offset + i] = (into[offset + i] as number) + weight * (data[i] as number);
      offset += data.length;
    }
  }

  /** A flat float64 copy of per-weight tensors. */
  flatten(tensors: tf.Tensor[]): Float64Array {
    const out = new Float64Array(this.size);
    this.accumulate(out, tensors);
    return out;
  }

  /** [start, end) of each weight in the flat vector. */
  ranges(): [number, number][] {
    let offset = 0;
    return this.sizes.map((size) => {
      const range: [number, number] = [offset, offset + size];
      offset += size;
      return range;
    });
  }
}

/** An operator over a model's weights: flat products, and the same products on per-weight tensors. */
export interface ModelOperator extends LinearOperator {
  readonly layout: ParameterLayout;
  apply(v: Float64Array): Promise<Float64Array>;
  /** A v with v and the result as one tensor per trainable weight (model.trainableWeights order). */
  applyPerWeight(v: tf.Tensor[]): Promise<tf.Tensor[]>;
  /** Products computed so far (each is one pass over the data). */
  readonly products: number;
}

/** A dense symmetric matrix as an operator (tests, small problems). */
export function denseOperator(matrix: ArrayLike<number>[]): LinearOperator {
  const n = matrix.length;
  return {
    size: n,
    apply(v: Float64Array): Float64Array {
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const row = matrix[i] as ArrayLike<number>;
        let s = 0;
        for (let j = 0; j < n; j++) s += (row[j] as number) * (v[j] as number);
        out[i] = s;
      }
      return out;
    },
  };
}
