import type { tf } from '@fisherlab/engine';
import type { LabelledBatch } from '../hvp/exact.js';
import { preflight } from '../model-output.js';
import { batchesOf } from '../operators/data.js';
import { HessianOperator } from '../operators/hessian.js';
import type { LinearOperator } from '../operators/types.js';
import { dot, rademacher, seededStream } from './vectors.js';

export interface TraceProbeEstimate {
  /** Estimate of Tr(A). */
  value: number;
  /** Standard error of the mean over probes: sd(zᵀAz) / √probes. */
  standardError: number;
  probes: number;
  /** zᵀAz for each probe. */
  samples: number[];
  estimator: 'hutchinson';
  ms: number;
}

export interface HessianTraceEstimate extends TraceProbeEstimate {
  examples: number;
}

/**
 * Hutchinson's estimator of the trace of any operator: Tr(A) = E_z[zᵀ A z] for Rademacher z
 * (entries ±1 with probability ½), so the mean of zᵀAz over independent probes is unbiased, with
 * standard error sd/√probes. One product per probe; probes from the seeded stream
 * `fisherlab-hutchinson:<seed>`, one uniform per entry (< ½ gives −1).
 */
export async function hutchinsonTrace(
  operator: LinearOperator,
  options: { probes?: number; seed?: number } = {},
): Promise<TraceProbeEstimate> {
  const start = performance.now();
  const probes = options.probes ?? 50;
  if (!Number.isInteger(probes) || probes < 2) {
    throw new Error(`hutchinsonTrace: probes must be an integer ≥ 2 (for a standard error), found ${probes}`);
  }
  const uniform = seededStream('hutchinson', options.seed ?? 0);
  const samples: number[] = [];
  for (let p = 0; p < probes; p++) {
    const z = rademacher(operator.size, uniform);
    samples.push(dot(z, await operator.apply(z)));
  }
  const mean = samples.reduce((s, x) => s + x, 0) / probes;
  const variance = samples.reduce((s, x) => s + (x - mean) ** 2, 0) / (probes - 1);
  return {
    value: mean,
    standardError: Math.sqrt(variance / probes),
    probes,
    samples,
    estimator: 'hutchinson',
    ms: performance.now() - start,
  };
}

/** Options of the model-and-batch wrappers: examples per double-backprop pass (default: all at once). */
export interface CurvatureOptions {
  batchSize?: number;
}

/**
 * Tr(H) of the mean cross-entropy on a labelled batch (BatchNorm in inference mode): Hutchinson on
 * a `HessianOperator` over `batchesOf(data, batchSize)`.
 */
export function hutchinsonHessianTrace(
  model: tf.LayersModel,
  data: LabelledBatch,
  options: CurvatureOptions & { probes?: number; seed?: number } = {},
): Promise<HessianTraceEstimate> {
  preflight(model, 'hutchinsonHessianTrace');
  const examples = data.x.shape[0] ?? 0;
  const hessian = new HessianOperator(model, batchesOf(data, options.batchSize ?? Math.max(1, examples)));
  return hutchinsonTrace(hessian, options).then((estimate) => ({ ...estimate, examples }));
}
