import type { tf } from '@fisherlab/engine';
import type { LabelledBatch } from '../hvp/exact.js';
import { preflight } from '../model-output.js';
import { batchesOf } from '../operators/data.js';
import { HessianOperator } from '../operators/hessian.js';
import type { LinearOperator } from '../operators/types.js';
import type { CurvatureOptions } from './hutchinson.js';
import { symmetricEigen } from './symmetric_eigen.js';
import { axpy, dot, norm, positiveInteger, scale, seededStream } from './vectors.js';

/** The Lanczos decomposition A Q_m = Q_m T_m + β_m q_{m+1} e_mᵀ: T_m tridiagonal (α, β). */
export interface LanczosRun {
  alpha: number[];
  /** β_j = ‖residual‖ after step j (the last one is the residual norm of the whole run). */
  beta: number[];
  /** The orthonormal Lanczos vectors q_1..q_m. */
  basis: Float64Array[];
}

/**
 * m steps of Lanczos from `start`, with full reorthogonalisation (classical Gram-Schmidt, twice,
 * against every earlier vector) so the basis stays orthogonal in float64 and no ghost copies of
 * converged eigenvalues appear. Stops early on an invariant subspace (β < 1e-12‖A q‖) or when
 * `stop(run)` says so. Memory: m vectors of n float64.
 */
export async function lanczos(
  operator: LinearOperator,
  start: Float64Array,
  steps: number,
  stop?: (run: LanczosRun) => boolean,
): Promise<LanczosRun> {
  const run: LanczosRun = { alpha: [], beta: [], basis: [] };
  let q = Float64Array.from(start);
  scale(q, 1 / norm(q));
  for (let j = 0; j < Math.min(steps, operator.size); j++) {
    run.basis.push(q);
    const w = Float64Array.from(await operator.apply(q));
    const scaleOfW = norm(w);
    run.alpha.push(dot(q, w));
    for (let pass = 0; pass < 2; pass++) {
      for (const b of run.basis) axpy(w, b, -dot(w, b));
    }
    const beta = norm(w);
    run.beta.push(beta);
    if (beta <= 1e-12 * Math.max(scaleOfW, 1e-300) || (stop?.(run) ?? false)) break;
    q = w;
    scale(q, 1 / beta);
  }
  return run;
}

export interface RitzPairs {
  /** Eigenvalues of T_m, descending. */
  values: number[];
  /** Eigenvectors of T_m (in the Lanczos basis), values' order. */
  vectors: number[][];
  /** Residual bound ‖A y − θ y‖ = β_m |s_m| of each Ritz pair (θ, y = Q s). */
  residuals: number[];
}

export function ritzPairs(run: LanczosRun): RitzPairs {
  const { alpha, beta } = run;
  const m = alpha.length;
  const t = Array.from({ length: m }, (_, i) =>
    Array.from({ length: m }, (_, k) =>
      i === k ? (alpha[i] as number) : Math.abs(i - k) === 1 ? (beta[Math.min(i, k)] as number) : 0,
    ),
  );
  const eigen = symmetricEigen(t);
  const last = beta[m - 1] as number;
  return {
    values: eigen.values,
    vectors: eigen.vectors,
    residuals: eigen.vectors.map((s) => Math.abs(last * (s[m - 1] as number))),
  };
}

export interface TopEigenpairs {
  /** The k largest (algebraic) eigenvalues, descending. */
  values: number[];
  /** Their unit eigenvectors (Ritz vectors Q s), flat, in the operator's layout. */
  vectors: Float64Array[];
  /** ‖A y − λ y‖ for each pair. */
  residuals: number[];
  /** Every residual ≤ tolerance · |λ|. */
  converged: boolean;
  /** Operator products used. */
  iterations: number;
  /** All Ritz values of the last Lanczos matrix, descending (the extremes converge first). */
  ritzValues: number[];
  ms: number;
}

export interface EigenOptions {
  /** Eigenpairs wanted (default 1). */
  k?: number;
  /** Most Lanczos steps (operator products); default max(30, 3k), at most the size. */
  maxIterations?: number;
  /** Stop when every wanted residual ≤ tolerance · |λ| (default 1e-3). */
  tolerance?: number;
  /** Seed of the start vector (uniform in [−½, ½) from `fisherlab-lanczos:<seed>`). */
  seed?: number;
}

/**
 * The top-k eigenpairs of a symmetric operator by Lanczos with full reorthogonalisation. After m
 * products, Q_mᵀ A Q_m = T_m; its largest eigenvalues θ with eigenvectors s give Ritz pairs
 * (θ, Q_m s) with residual β_m |s_m|. Unlike power iteration it returns the largest algebraic
 * eigenvalues even when a negative one is larger in magnitude, and converges in fewer products.
 */
export async function topEigenpairs(
  operator: LinearOperator,
  options: EigenOptions = {},
): Promise<TopEigenpairs> {
  const started = performance.now();
  const k = positiveInteger('topEigenpairs', 'k', options.k ?? 1);
  const tolerance = options.tolerance ?? 1e-3;
  const steps = Math.min(options.maxIterations ?? Math.max(30, 3 * k), operator.size);
  const uniform = seededStream('lanczos', options.seed ?? 0);
  const start = Float64Array.from({ length: operator.size }, () => uniform() - 0.5);
  const convergedAt = (pairs: RitzPairs, m: number) =>
    m >= k &&
    pairs.values.slice(0, k).every((v, i) => (pairs.residuals[i] as number) <= tolerance * Math.abs(v));
  const run = await lanczos(operator, start, steps, (r) => convergedAt(ritzPairs(r), r.alpha.length));
  const pairs = ritzPairs(run);
  const wanted = Math.min(k, pairs.values.length);
  const vectors = pairs.vectors.slice(0, wanted).map((s) => {
    const y = new Float64Array(operator.size);
    run.basis.forEach((q, j) => {
      axpy(y, q, s[j] as number);
    });
    return y;
  });
  return {
    values: pairs.values.slice(0, wanted),
    vectors,
    residuals: pairs.residuals.slice(0, wanted),
    converged: convergedAt(pairs, run.alpha.length) || run.alpha.length === operator.size,
    iterations: run.alpha.length,
    ritzValues: pairs.values,
    ms: performance.now() - started,
  };
}

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

/** λ_max(H) of the mean cross-entropy on a labelled batch: `topEigenpairs` on a `HessianOperator`. */
export function topHessianEigenvalue(
  model: tf.LayersModel,
  data: LabelledBatch,
  options: CurvatureOptions & { maxIterations?: number; tolerance?: number; seed?: number } = {},
): Promise<TopEigenvalueEstimate> {
  preflight(model, 'topHessianEigenvalue');
  const examples = data.x.shape[0] ?? 0;
  const hessian = new HessianOperator(model, batchesOf(data, options.batchSize ?? Math.max(1, examples)));
  return topEigenpairs(hessian, { ...options, k: 1 }).then((top) => ({
    value: top.values[0] as number,
    residual: top.residuals[0] as number,
    converged: top.converged,
    iterations: top.iterations,
    ritzValues: top.ritzValues,
    examples,
    ms: top.ms,
  }));
}
