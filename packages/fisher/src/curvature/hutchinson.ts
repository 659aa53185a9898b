import { seededUniform } from '@fisherlab/core';
import type { tf } from '@fisherlab/engine';
import type { LabelledBatch } from '../hvp/exact.js';
import { preflight } from '../model-output.js';
import { type CurvatureOptions, dot, FlatHessian } from './hessian.js';

export interface HessianTraceEstimate {
  /** Estimate of Tr(H) on the subset. */
  value: number;
  /** Standard error of the mean over probes: sd(zᵀHz) / √probes. */
  standardError: number;
  probes: number;
  /** zᵀHz for each probe. */
  samples: number[];
  examples: number;
  estimator: 'hutchinson';
  ms: number;
}

/**
 * Hutchinson's estimator of the Hessian trace: Tr(H) = E_z[zᵀ H z] for Rademacher z (entries ±1
 * with probability ½), so the mean of zᵀHz over independent probes is unbiased, with standard error
 * sd/√probes. One exact Hessian-vector product per probe, BatchNorm in inference mode.
 */
export function hutchinsonHessianTrace(
  model: tf.LayersModel,
  data: LabelledBatch,
  options: CurvatureOptions & { probes?: number; seed?: number } = {},
): HessianTraceEstimate {
  preflight(model, 'hutchinsonHessianTrace');
  const start = performance.now();
  const probes = options.probes ?? 50;
  if (!Number.isInteger(probes) || probes < 2) {
    throw new Error(
      `hutchinsonHessianTrace: probes must be an integer ≥ 2 (for a standard error), found ${probes}`,
    );
  }
  const hessian = new FlatHessian(model, data, options);
  const uniform = seededUniform(options.seed ?? 0, 0x4855);
  const samples: number[] = [];
  try {
    for (let p = 0; p < probes; p++) {
      const z = new Float64Array(hessian.size);
      for (let i = 0; i < z.length; i++) z[i] = uniform() < 0.5 ? -1 : 1;
      samples.push(dot(z, hessian.apply(z)));
    }
  } finally {
    hessian.dispose();
  }
  const mean = samples.reduce((s, x) => s + x, 0) / probes;
  const variance = samples.reduce((s, x) => s + (x - mean) ** 2, 0) / (probes - 1);
  return {
    value: mean,
    standardError: Math.sqrt(variance / probes),
    probes,
    samples,
    examples: data.x.shape[0] ?? 0,
    estimator: 'hutchinson',
    ms: performance.now() - start,
  };
}
