// Training a run as `fisherlab train` does: train(spec, { onRecord, signal }).

export { InputError, isInputError, NonFiniteError } from '@fisherlab/core';
export {
  type CheckpointPayload,
  type CheckpointPointer,
  type LoadedRunCheckpoint,
  latestCheckpoint,
  readCheckpoint,
  type TrainerState,
  writeCheckpoint,
} from './checkpoint.js';
export {
  type EvaluationResult,
  evaluateSplit,
  type PreparedData,
  prepareData,
  scoreSplit,
  type TensorBatch,
} from './data.js';
export { TrainingError } from './errors.js';
export {
  type DueEvents,
  eventsAfterStep,
  isPenalizedStep,
  isTrackingStep,
  type RunLength,
  runLength,
} from './events.js';
export { checkModelFitsData, type DataShape } from './input-checks.js';
export {
  type CurvatureMeasurement,
  createPenalizedStep,
  measureCurvature,
  measureFisherTrace,
  type PenalizedStep,
} from './measurements.js';
export { MetricsLog, type MetricsMark, readMetrics } from './metrics-log.js';
export {
  buildRunModel,
  copyCheckpointWeights,
  customRunModel,
  type ModelInputs,
  modelSignature,
  type RunModel,
} from './model.js';
export { accuracyOf, plainStep, type StepResult } from './objective.js';
// The pieces train() is built from, for loops of your own
export { OPTIMIZER_NAMES, Optimizer, type OptimizerSettings } from './optimizer.js';
// The run directory: one writer of config.json, meta.json, metrics.jsonl and the checkpoints
export { ATTEMPT_FILES, RunDirectory } from './run-directory.js';
export { type HeldLock, lockRun } from './run-lock.js';
export { learningRateAt, SCHEDULE_KINDS, type ScheduleSettings } from './schedule.js';
// The run spec (a run config) and its parts
export {
  BACKENDS,
  choicesOf,
  DATASET_NAMES,
  DatasetSchema,
  ESTIMATORS,
  EvaluationSchema,
  formatConfigIssues,
  ModelSchema,
  NoiseSchema,
  OptimizerSchema,
  PenaltySchema,
  parseRunConfig,
  type RunConfig,
  type RunConfigInput,
  RunConfigSchema,
  ScheduleSchema,
  TrackingSchema,
} from './spec.js';
export { STREAM } from './streams.js';
export {
  type ConfigChange,
  collectVersions,
  gitCommit,
  type ProgressFigures,
  startBackend,
  type TrainOptions,
  type TrainOutcome,
  type TrainProgress,
  train,
} from './train.js';
