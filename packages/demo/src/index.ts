// The demo `fisherlab demo` runs: the paper's three findings, paired across seeds, on the embedded
// Fashion-MNIST subset, on a protocol `fisherlab demo --tune` derives.

export { DemoError } from './errors.js';
export {
  type DemoEvidence,
  type DemoRunSummary,
  demoFindings,
  type Finding,
  groupByArm,
  type RunsByArm,
  type Verdict,
} from './findings.js';
export { fitBudget, fitEpochOf, memorizationAreas } from './fit.js';
export {
  armLabel,
  armSchedule,
  DEMO_ARMS,
  DEMO_SCALES,
  type DemoArm,
  type DemoScale,
  type DemoTuning,
  demoArmConfig,
  demoPlan,
  FIT_THRESHOLD,
  type GridRow,
  projectDemoSeconds,
  readDemoTuning,
  TUNING_FILE,
} from './plan.js';
export { createDemoEta } from './progress.js';
export {
  type DemoOptions,
  type DemoResult,
  describeFit,
  describeProtocol,
  describeTuning,
  runDemo,
} from './run-demo.js';
export { TUNING_GRIDS, tuneDemo } from './tune.js';
