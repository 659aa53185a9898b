export {
  type AcquireLockOptions,
  acquireLock,
  DEFAULT_STALE_AFTER_MS,
  type HeldLock,
  LockHeldError,
  type LockHolder,
  lockLiveness,
  processStartTime,
  readLock,
  runLockFile,
} from './lock.js';
export {
  IntegrityError,
  MANIFEST_FILE,
  type Manifest,
  type ManifestEntry,
  readVerified,
  sha256Hex,
  writeManifest,
} from './manifest.js';
export type {
  ConfigChange,
  CurvatureRecord,
  EvalRecord,
  FisherRecord,
  MetricRecord,
  RunMeta,
  RunResume,
  RunStatus,
  TrainRecord,
} from './records.js';
export { ATTEMPT_FILES, RUN_FILES, RUN_MARKERS, type RunFileName, runFile } from './run-files.js';
export {
  lastLoggedStep,
  type RunState,
  type RunStateReport,
  readRunMeta,
  readRunState,
} from './run-state.js';
export {
  ensureDirectory,
  explainWriteError,
  WRITE_ERROR_HINTS,
  WriteError,
  writeFileAtomic,
  writeJsonAtomic,
} from './write.js';
