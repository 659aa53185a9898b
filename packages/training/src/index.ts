// Training a run as `fisherlab train` does: train(spec, { onRecord, signal }).

export { formatDuration, InputError, isInputError, NonFiniteError } from '@fisherlab/core';
export type { ConfigChange } from '@fisherlab/storage';
export { collectVersions, gitCommit, startBackend } from './backend-settings.js';
export {
  type CheckpointPointer,
  type FoundCheckpoint,
  type LoadedRunCheckpoint,
  latestCheckpoint,
  readCheckpoint,
  type TrainerState,
} from './checkpoint.js';
export { mergeConfig, readConfigFile, setPath } from './config-file.js';
export { consoleProgress, describeFigures, type ProgressDisplay } from './console-progress.js';
export {
  type EvaluationResult,
  evaluateSplit,
  type PreparedData,
  prepareData,
  scoreSplit,
  type TensorBatch,
} from './data.js';
export { dryRun } from './dry-run.js';
export {
  BackendError,
  CheckpointError,
  ResumeRefusedError,
  RunDirectoryError,
  type RunDirectoryProblem,
  RunInUseError,
  TrainingError,
} from './errors.js';
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
export { readMetrics } from './metrics-log.js';
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
// What a resume may change
export { configDifferences, RESUME_SAFE_KEYS } from './resume-policy.js';
// The run directory: train() is the one writer of its files; these are for tools that run it
export {
  appendMeasurements,
  checkRunDirectory,
  clearFailedAttempt,
  recordRunFailure,
} from './run-directory.js';
export { type HeldLock, lockRun } from './run-lock.js';
export {
  CURVATURE_MATRICES,
  CURVATURE_MEASURES,
  type CurvatureMatrix,
  type CurvatureMeasure,
  curvatureOfSavedModel,
  type SavedCurvatureMeasurement,
} from './saved-curvature.js';
export {
  evaluateSavedModel,
  loadSavedModel,
  type SavedModelMeasurement,
  traceOfSavedModel,
} from './saved-model.js';
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
  schemaOfKey,
  TrackingSchema,
} from './spec.js';
export { type StopSignalOptions, type StopSignals, stopOnSignals } from './stop-signals.js';
export { STREAM } from './streams.js';
export {
  type ProgressFigures,
  type TrainOptions,
  type TrainOutcome,
  type TrainProgress,
  train,
} from './train.js';
