import type { LinearOperator } from '../operators/types.js';
import { dot, norm, positiveInteger, scale, seededStream } from './vectors.js';

export interface PowerIterationEstimate {
  /** The eigenvalue of largest magnitude (its sign kept): the Rayleigh quotient vᵀAv. */
  value: number;
  /** Its unit eigenvector estimate. */
  vector: Float64Array;
  /** ‖A v − λ v‖ at the last step. */
  residual: number;
  /** |Δλ| ≤ tolerance · |λ| between the last two steps (PyHessian's rule). */
  converged: boolean;
  iterations: number;
  ms: number;
}

/**
 * Power iteration (PyHessian's `eigenvalues`): v ← A v / ‖A v‖ converges to the eigenvector of the
 * eigenvalue of largest |λ|, at rate |λ₂/λ₁| per product. Start vector: seeded Gaussian-like uniform.
 */
export async function powerIteration(
  operator: LinearOperator,
  options: { maxIterations?: number; tolerance?: number; seed?: number } = {},
): Promise<PowerIterationEstimate> {
  const started = performance.now();
  const maxIterations = positiveInteger('powerIteration', 'maxIterations', options.maxIterations ?? 100);
  const tolerance = options.tolerance ?? 1e-3;
  const uniform = seededStream('power', options.seed ?? 0);
  let v = Float64Array.from({ length: operator.size }, () => uniform() - 0.5);
  scale(v, 1 / norm(v));
  let value = Number.NaN;
  let residual = Number.POSITIVE_INFINITY;
  let converged = false;
  let iterations = 0;
  for (; iterations < maxIterations && !converged; ) {
    const w = Float64Array.from(await operator.apply(v));
    iterations++;
    const next = dot(v, w);
    residual = Math.sqrt(Math.max(0, dot(w, w) - next * next));
    converged = Number.isFinite(value) && Math.abs(next - value) <= tolerance * Math.abs(next);
    value = next;
    const size = norm(w);
    if (size === 0) break;
    scale(w, 1 / size);
    v = w;
  }
  return { value, vector: v, residual, converged, iterations, ms: performance.now() - started };
}
