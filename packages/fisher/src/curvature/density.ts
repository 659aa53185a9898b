import type { LinearOperator } from '../operators/types.js';
import { lanczos, ritzPairs } from './lanczos.js';
import { positiveInteger, rademacher, seededStream } from './vectors.js';

/** One stochastic Lanczos quadrature run: the Gauss quadrature nodes θⱼ and weights τⱼ = (sⱼ[0])². */
export interface QuadratureRun {
  nodes: number[];
  weights: number[];
}

export interface SpectralDensity {
  /** One quadrature per random start (PyHessian's `eigen_list_full`, `weight_list_full`). */
  runs: QuadratureRun[];
  /** Tr(A) ≈ n · mean over runs of Σⱼ τⱼ θⱼ (the same quadrature applied to f(λ) = λ). */
  trace: number;
  /** Its standard error over the runs (NaN with one run). */
  traceStandardError: number;
  size: number;
  ms: number;
}

/**
 * The spectral density φ(t) = (1/n) Σᵢ δ(t − λᵢ) of a symmetric operator by stochastic Lanczos
 * quadrature (Ghorbani et al. 2019; PyHessian's `density()`): for each of `runs` Rademacher starts
 * v, m Lanczos steps (full reorthogonalisation) give T_m = S Θ Sᵀ, and vᵀ f(A) v / ‖v‖² ≈ Σⱼ τⱼ f(θⱼ)
 * with τⱼ = (S₀ⱼ)². Averaged over runs, the nodes and weights are an unbiased-in-expectation
 * quadrature of φ; `broadenDensity` turns them into a smooth curve.
 */
export async function spectralDensity(
  operator: LinearOperator,
  options: { runs?: number; iterations?: number; seed?: number } = {},
): Promise<SpectralDensity> {
  const started = performance.now();
  const runCount = positiveInteger('spectralDensity', 'runs', options.runs ?? 5);
  const steps = positiveInteger('spectralDensity', 'iterations', options.iterations ?? 50);
  const uniform = seededStream('slq', options.seed ?? 0);
  const runs: QuadratureRun[] = [];
  for (let r = 0; r < runCount; r++) {
    const run = await lanczos(operator, rademacher(operator.size, uniform), steps);
    const pairs = ritzPairs(run);
    runs.push({ nodes: pairs.values, weights: pairs.vectors.map((s) => (s[0] as number) ** 2) });
  }
  const traces = runs.map(
    (r) => operator.size * r.nodes.reduce((s, node, j) => s + node * (r.weights[j] as number), 0),
  );
  const trace = traces.reduce((s, t) => s + t, 0) / traces.length;
  const spread =
    traces.length > 1 ? traces.reduce((s, t) => s + (t - trace) ** 2, 0) / (traces.length - 1) : Number.NaN;
  return {
    runs,
    trace,
    traceStandardError: Math.sqrt(spread / traces.length),
    size: operator.size,
    ms: performance.now() - started,
  };
}

export interface BroadenedDensity {
  /** Evenly spaced points t from min(nodes) − 0.01 to max(nodes) + 0.01 (PyHessian's grid). */
  grid: number[];
  /** φ(t) on the grid, normalised to integrate to 1. */
  values: number[];
  /** σ² of the Gaussian kernel used. */
  sigmaSquared: number;
}

export interface BroadeningOptions {
  /** Grid points (default 1000). */
  bins?: number;
  /** σ as a fraction of the grid's range (default 0.01), so peaks span several grid points. */
  width?: number;
  /**
   * PyHessian's rule instead: σ² = sigmaSquared · max(1, λ_max − λ_min) (PyHessian: 1e-5 on 10,000
   * bins; on fewer bins its peaks fall between grid points).
   */
  sigmaSquared?: number;
}

/**
 * Gaussian broadening of a quadrature (PyHessian's `density_generate`): φ(t) = mean over runs of
 * Σⱼ τⱼ N(t; θⱼ, σ²) on `bins` grid points, then normalised so that Σ φ Δt = 1.
 */
export function broadenDensity(density: SpectralDensity, options: BroadeningOptions = {}): BroadenedDensity {
  const bins = positiveInteger('broadenDensity', 'bins', options.bins ?? 1000);
  const mean = (pick: (nodes: number[]) => number) =>
    density.runs.reduce((s, r) => s + pick(r.nodes), 0) / density.runs.length;
  const high = mean((nodes) => Math.max(...nodes)) + 0.01;
  const low = mean((nodes) => Math.min(...nodes)) - 0.01;
  const sigmaSquared =
    options.sigmaSquared !== undefined
      ? options.sigmaSquared * Math.max(1, high - low)
      : ((options.width ?? 0.01) * (high - low)) ** 2;
  const step = bins > 1 ? (high - low) / (bins - 1) : 0;
  const grid = Array.from({ length: bins }, (_, i) => low + i * step);
  const norm = 1 / Math.sqrt(2 * Math.PI * sigmaSquared);
  const values = grid.map((t) => {
    let sum = 0;
    for (const run of density.runs) {
      run.nodes.forEach((node, j) => {
        sum += (run.weights[j] as number) * norm * Math.exp(-((t - node) ** 2) / (2 * sigmaSquared));
      });
    }
    return sum / density.runs.length;
  });
  const area = values.reduce((s, v) => s + v, 0) * (step || 1);
  return { grid, values: values.map((v) => v / area), sigmaSquared };
}
