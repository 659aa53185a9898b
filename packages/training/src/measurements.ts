import { deriveSeed } from '@fisherlab/datasets';
import { tf } from '@fisherlab/engine';
import {
  estimateFisherTrace,
  FisherPenalty,
  hutchinsonHessianTrace,
  type TraceEstimate,
  topHessianEigenvalue,
} from '@fisherlab/fisher';
import type { PreparedData } from './data.js';
import type { RunModel } from './model.js';
import type { StepResult } from './objective.js';
import type { RunConfig } from './spec.js';
import { STREAM } from './streams.js';

/** Tr(F) of the run's model on its fixed tracking subset (BatchNorm in inference mode). */
export async function measureFisherTrace(
  config: RunConfig,
  runModel: RunModel,
  data: PreparedData,
  step: number,
): Promise<TraceEstimate> {
  const set = data.trackingSet(config.tracking.subset);
  return estimateFisherTrace(
    runModel.model,
    { x: set.x, labels: set.labels },
    {
      estimator: config.tracking.estimator,
      batchSize: 128,
      seed: deriveSeed(config.seed, STREAM.traceLabels, step),
      // A non-finite Tr(F) ends the run as 'diverged' (the trainer checks it); the inputs are checked data.
      checkFinite: false,
    },
  );
}

export interface PenalizedStep {
  (x: tf.Tensor, y: tf.Tensor1D, step: number): StepResult;
  dispose?: () => void;
}

/** The Fisher penalty (or GradNorm) step of a run: the trainer calls it on the steps it applies to. */
export function createPenalizedStep(config: RunConfig, runModel: RunModel): PenalizedStep {
  const penalty = new FisherPenalty({
    kind: config.penalty.kind === 'gradnorm' ? 'gradnorm' : 'fisher',
    alpha: config.penalty.alpha,
    every: 1, // the trainer decides which steps are penalized (config.penalty.every)
    excludeBatchNorm: config.penalty.excludeBatchNorm,
    method: config.penalty.method,
    seed: deriveSeed(config.seed, STREAM.penaltyLabels),
    // The trainer checks the loss, the penalty and the gradient itself (a non-finite one ends the
    // run as 'diverged'), and its batches come from checked data.
    checkFinite: false,
  });
  return (x, y, step) => {
    const result = penalty.step(runModel.model, x, y, step);
    const gradNormSquared = tf.tidy(
      () => tf.addN(result.grads.map((g) => tf.sum(tf.square(g)))).dataSync()[0]!,
    );
    return {
      loss: result.loss,
      accuracy: result.accuracy,
      penalty: result.penalty,
      gradNormSquared,
      grads: result.namedGrads,
    };
  };
}

export interface CurvatureMeasurement {
  traceH?: number;
  traceHStdErr?: number;
  topEigenvalue?: number;
}

/**
 * Flatness probes on the run's curvature subset (the first `curvatureSubset` examples of the Tr(F)
 * tracking set, or that many when Tr(F) is not tracked; true labels, BatchNorm in inference mode): Hutchinson's Tr(H) with 20 Rademacher
 * probes, and the top Hessian eigenvalue by Lanczos, both on exact Hessian-vector products.
 */
export async function measureCurvature(
  config: RunConfig,
  runModel: RunModel,
  data: PreparedData,
  step: number,
): Promise<CurvatureMeasurement> {
  const set = data.trackingSet(config.tracking.subset || config.tracking.curvatureSubset);
  const n = Math.min(config.tracking.curvatureSubset, set.labels.length);
  const batch = { x: set.x.slice(0, n), labels: tf.tensor1d(set.labels.subarray(0, n), 'int32') };
  try {
    const seed = deriveSeed(config.seed, STREAM.curvature, step);
    const trace = await hutchinsonHessianTrace(runModel.model, batch, { probes: 20, seed, batchSize: 128 });
    const top = await topHessianEigenvalue(runModel.model, batch, {
      maxIterations: 20,
      seed,
      batchSize: 128,
    });
    return { traceH: trace.value, traceHStdErr: trace.standardError, topEigenvalue: top.value };
  } finally {
    tf.dispose([batch.x, batch.labels]);
  }
}
