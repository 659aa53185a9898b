import { seededUniform } from '@fisherlab/core';
import type { tf } from '@fisherlab/engine';
import type { LabelledBatch } from '../hvp/exact.js';
import { preflight } from '../model-output.js';
import { type CurvatureOptions, dot, FlatHessian } from './hessian.js';
import { symmetricEigen } from './symmetric_eigen.js';

export interface TopEigenvalueEstimate {
  /** Largest (algebraic) eigenvalue of H on the subset: the top Ritz value. */
  value: number;
  /** Its residual bound ‖H q − λ q‖ = β_m |s_m| for the Ritz vector q. */
  residual: number;
  /** residual ≤ tolerance · |value|. */
  converged: boolean;
  /** Hessian-vector products used. */
  iterations: number;
  /** All Ritz values of the last Lanczos matrix, descending (the extremes converge first). */
  ritzValues: number[];
  examples: number;
  ms: number;
}

/**
 * Top Hessian eigenvalue by the Lanczos method with full reorthogonalisation. After m products,
 * Q_mᵀ H Q_m = T_m is tridiagonal (α on the diagonal, β off it); its largest eigenvalue θ with unit
 * eigenvector s approximates λ_max(H) with residual ‖H Q s − θ Q s‖ = β_m |s_m|. Unlike power
 * iteration (PyHessian's method) it returns the largest algebraic eigenvalue even when a negative
 * one is larger in magnitude, and converges in fewer products. Memory: m vectors of n float64.
 */
export function topHessianEigenvalue(
  model: tf.LayersModel,
  data: LabelledBatch,
  options: CurvatureOptions & { maxIterations?: number; tolerance?: number; seed?: number } = {},
): TopEigenvalueEstimate {
  preflight(model, 'topHessianEigenvalue');
  const start = performance.now();
  const tolerance = options.tolerance ?? 1e-3;
  const hessian = new FlatHessian(model, data, options);
  const maxIterations = Math.min(options.maxIterations ?? 30, hessian.size);
  const uniform = seededUniform(options.seed ?? 0, 0x4c41);
  const basis: Float64Array[] = [];
  const alpha: number[] = [];
  const beta: number[] = [];
  let q: Float64Array = new Float64Array(hessian.size);
  for (let i = 0; i < q.length; i++) q[i] = uniform() - 0.5;
  scale(q, 1 / Math.sqrt(dot(q, q)));
  let result = { value: Number.NaN, residual: Number.POSITIVE_INFINITY, ritzValues: [] as number[] };
  try {
    for (let j = 0; j < maxIterations; j++) {
      basis.push(q);
      const w = hessian.apply(q);
      alpha.push(dot(q, w));
      // Full reorthogonalisation (twice, classical Gram-Schmidt) keeps the basis orthogonal in float64.
      for (let pass = 0; pass < 2; pass++) {
        for (const b of basis) axpy(w, b, -dot(w, b));
      }
      const norm = Math.sqrt(dot(w, w));
      beta.push(norm);
      result = ritz(alpha, beta);
      if (result.residual <= tolerance * Math.abs(result.value) || norm < 1e-12) break;
      q = w;
      scale(q, 1 / norm);
    }
  } finally {
    hessian.dispose();
  }
  return {
    ...result,
    converged: result.residual <= tolerance * Math.abs(result.value),
    iterations: hessian.hvpCount,
    examples: data.x.shape[0] ?? 0,
    ms: performance.now() - start,
  };
}

function ritz(alpha: number[], beta: number[]): { value: number; residual: number; ritzValues: number[] } {
  const m = alpha.length;
  const t = Array.from({ length: m }, (_, i) =>
    Array.from({ length: m }, (_, k) =>
      i === k ? (alpha[i] as number) : Math.abs(i - k) === 1 ? (beta[Math.min(i, k)] as number) : 0,
    ),
  );
  const eigen = symmetricEigen(t);
  const top = eigen.vectors[0] as number[];
  return {
    value: eigen.values[0] as number,
    residual: Math.abs((beta[m - 1] as number) * (top[m - 1] as number)),
    ritzValues: eigen.values,
  };
}

function scale(v: Float64Array, factor: number): void {
  for (let i = 0; i < v.length; i++) v[i] = (v[i] as number) * factor;
}

function axpy(y: Float64Array, x: Float64Array, a: number): void {
  for (let i = 0; i < y.length; i++) y[i] = (y[i] as number) + a * (x[i] as number);
}
