export { registerSweep } from './commands/sweep.js';
export { EXIT, UserError } from './errors.js';
export { buildProgram, main } from './main.js';
export {
  type KubernetesJobOptions,
  kubernetesJob,
  kubernetesJobYaml,
  validateKubernetesJob,
} from './sweep/emit-k8s.js';
export { type SlurmOptions, slurmScript } from './sweep/emit-slurm.js';
export { type LocalPoolOptions, type PoolSummary, runLocalPool } from './sweep/local-pool.js';
export {
  type PlannedRun,
  planSweep,
  readPlan,
  runDirOf,
  runId,
  type SweepPlan,
  writePlan,
} from './sweep/plan.js';
export { resolveRunIndex } from './sweep/run-index.js';
export { runPlannedRun, type SweepRunResult } from './sweep/runner.js';
export { loadSweepFile, parseSweep, type SweepSpec } from './sweep/spec.js';
export { type SweepStatusReport, sweepStatus } from './sweep/status.js';
