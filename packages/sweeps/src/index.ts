// Sweeps: a grid of runs planned once with stable ids, then run by any engine (a local process
// pool, a Slurm job array, a Kubernetes Indexed Job), each run by `fisherlab sweep run`.

export {
  type KubernetesJobOptions,
  kubernetesJob,
  kubernetesJobYaml,
  validateKubernetesJob,
} from './emit-k8s.js';
export { type SlurmOptions, shellQuote, slurmScript } from './emit-slurm.js';
export { SweepError, WORKER_EXIT } from './errors.js';
export {
  type LocalPoolOptions,
  type PoolEvent,
  type PoolRunResult,
  type PoolSummary,
  runLocalPool,
} from './local-pool.js';
export {
  canonicalJson,
  formatPlanWrite,
  PLAN_FILE,
  type PlannedRun,
  type PlanWriteSummary,
  planSweep,
  readPlan,
  runDirOf,
  runId,
  type SweepPlan,
  writePlan,
} from './plan.js';
export { createPoolDisplay, formatPoolSummary } from './pool-display.js';
export { INDEX_VARIABLES, type ResolvedIndex, resolveRunIndex } from './run-index.js';
export {
  DEFAULT_STALE_AFTER_MS,
  type RunRecordState,
  readRunState,
  type SweepRunState,
} from './run-state.js';
export {
  type RunAction,
  type RunProgress,
  runPlannedRun,
  type SweepRunOptions,
  type SweepRunResult,
} from './runner.js';
export { loadSweepFile, parseSweep, type SweepFileOptions, type SweepSpec } from './spec.js';
export { formatSweepStatus, type SweepRunStatus, type SweepStatusReport, sweepStatus } from './status.js';
export {
  applyPlanThreads,
  DEFAULT_NATIVE_THREADS,
  NATIVE_THREADS_ENV,
  nativeThreadsOf,
  threadEnvironment,
} from './threads.js';
export { classifyWorkerExit, type PoolRunStatus, type WorkerExit } from './worker-exit.js';
export { jsonProgressSink, PROGRESS_ENV, PROGRESS_PREFIX } from './worker-progress.js';
