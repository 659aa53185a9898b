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
  CurvatureRecord,
  EvalRecord,
  FisherRecord,
  MetricRecord,
  RunMeta,
  RunStatus,
  TrainRecord,
} from './records.js';
export {
  ensureDirectory,
  explainWriteError,
  WRITE_ERROR_HINTS,
  WriteError,
  writeFileAtomic,
  writeJsonAtomic,
} from './write.js';
