import type { RunConfig } from './spec.js';

/**
 * When things happen in a run: its length, and after each step which records, measurements and
 * checkpoints are due. Pure functions of the config and the step, so a resumed run does at each
 * step exactly what an uninterrupted one does.
 */

export interface RunLength {
  stepsPerEpoch: number;
  totalSteps: number;
}

/** Total steps and steps per epoch for a config and a training-set size (a short last batch counts). */
export function runLength(config: RunConfig, trainCount: number): RunLength {
  const stepsPerEpoch = Math.ceil(trainCount / config.batchSize);
  const totalSteps = config.steps ?? (config.epochs ?? 1) * stepsPerEpoch;
  return { stepsPerEpoch, totalSteps };
}

/** Whether Tr(F) is measured after `step` steps (step 0 = before training): densely early, then every `every`. */
export function isTrackingStep(config: RunConfig, step: number, stepsPerEpoch: number): boolean {
  const t = config.tracking;
  if (t.subset === 0) return false;
  if (step === 0) return true;
  if (step < t.earlyEpochs * stepsPerEpoch) return step % t.earlyEvery === 0;
  return step % t.every === 0;
}

/** Whether the 0-based step `step` adds the penalty (steps 0, k, 2k, ... for penalty.every = k). */
export function isPenalizedStep(config: RunConfig, step: number): boolean {
  return config.penalty.kind !== 'none' && step % config.penalty.every === 0;
}

export interface DueEvents {
  /** A `train` record (the mean over the steps since the last one). */
  log: boolean;
  trace: boolean;
  evaluate: boolean;
  curvature: boolean;
  checkpoint: boolean;
}

/** What is due after `step` steps have completed (step ≥ 1); the end of the run counts as an epoch's end. */
export function eventsAfterStep(config: RunConfig, step: number, length: RunLength): DueEvents {
  const last = step === length.totalSteps;
  const endOfEpoch = step % length.stepsPerEpoch === 0 || last;
  const epoch = Math.round(step / length.stepsPerEpoch);
  const curvatureEvery = config.tracking.curvatureEveryEpochs;
  return {
    log: step % config.logEvery === 0 || endOfEpoch,
    trace: isTrackingStep(config, step, length.stepsPerEpoch),
    evaluate: endOfEpoch && (epoch % config.evaluation.everyEpochs === 0 || last),
    curvature: endOfEpoch && curvatureEvery > 0 && (epoch % curvatureEvery === 0 || last),
    checkpoint: endOfEpoch,
  };
}
