import { deriveSeed } from '@fisherlab/datasets';
import { tf } from '@fisherlab/engine';
import { estimateFisherTrace, FisherPenalty, type TraceEstimate } from '@fisherlab/fisher';
import type { RunConfig } from '../config/schema.js';
import type { PreparedData } from './data.js';
import type { RunModel } from './model.js';
import type { StepResult } from './objective.js';

const TRACE_STREAM = 6;
const PENALTY_STREAM = 5;
const CURVATURE_STREAM = 8;

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
      seed: deriveSeed(config.seed, TRACE_STREAM, step),
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
    seed: deriveSeed(config.seed, PENALTY_STREAM),
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

export async function measureCurvature(
  _config: RunConfig,
  _runModel: RunModel,
  _data: PreparedData,
  _step: number,
): Promise<CurvatureMeasurement> {
  void CURVATURE_STREAM;
  throw new Error('PROVISIONAL: curvature not wired yet');
}
