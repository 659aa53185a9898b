export type {
  CurvatureRecord,
  EvalRecord,
  FisherRecord,
  MetricRecord,
  RunMeta,
  RunStatus,
  TrainRecord,
} from '@fisherlab/storage';
export {
  type EarlyFisherPoint,
  type EarlyFisherVsAccuracy,
  earlyFisherVsAccuracy,
} from './analysis/earlyFisher.js';
export { DEFAULT_TAIL_EVALUATIONS, type FinalEval, finalEvals } from './analysis/finalEvals.js';
export { maxTraceF, TRACE_F_ESTIMATORS, type TraceFMax, traceFRows } from './analysis/fisherTrace.js';
export { DEFAULT_GROUP_IGNORE_KEYS, groupKeyOf, groupLabels } from './analysis/groups.js';
export { type MemorizationPoint, memorizationCurves } from './analysis/memorization.js';
export {
  type PairedEffect,
  type PerSeed,
  pairedEffect,
  type RatioEffect,
  ratioOfPairedMeans,
  tQuantile975,
} from './analysis/pairedEffects.js';
export {
  type ArmRole,
  type PenaltyArm,
  type PenaltyFamily,
  penaltyFamilies,
} from './analysis/penaltyArms.js';
export {
  DEFAULT_EARLY_EPOCHS,
  describeEarlyWindow,
  type EarlyWindow,
  earlyEpochsFor,
  type GroupSummary,
  isFinished,
  type RunSummary,
  type SummarizeOptions,
  summarizeGroups,
  summarizeRuns,
  summaryTable,
} from './analysis/runSummary.js';
export { type SeedCurvePoint, seedCurves } from './analysis/seedCurves.js';
export {
  describeCurvatureRecord,
  spectralDensityRows,
  topEigenvaluesVsTraceRows,
} from './analysis/spectra.js';
export { type Correlation, type MeanSpread, meanSpread, pearson, ranks, spearman } from './analysis/stats.js';
export {
  CHART_CONFIG,
  type Chart,
  type ChartOutcome,
  type CurveRow,
  curvePanel,
  curveRows,
} from './charts/chart.js';
export { earlyFisherScatterChart } from './charts/earlyFisherScatter.js';
export { fisherExplosionChart } from './charts/fisherExplosion.js';
export { topEigenvaluesChart } from './charts/flatMinima.js';
export { memorizationChart } from './charts/memorization.js';
export { type LabelledEffect, pairedEffectsChart } from './charts/pairedEffects.js';
export { penaltyVsLrChart } from './charts/penaltyVsLr.js';
export { spectralDensityChart } from './charts/spectralDensity.js';
export { RunDataError } from './read/errors.js';
export { findRunDirs } from './read/findRunDirs.js';
export { type ParsedMetrics, parseMetricsJsonl } from './read/parseMetrics.js';
export {
  buildTables,
  type ReadRunsOptions,
  type RunInfo,
  type RunSet,
  type RunState,
  type RunTables,
  readRuns,
} from './read/readRuns.js';
export { type RunConfigView, readConfigView } from './read/runConfig.js';
export {
  type BuildReportOptions,
  type BuiltReport,
  buildReport,
  type ComposedReport,
  type ComposeOptions,
  composeReport,
} from './report/buildReport.js';
export { escapeHtml, type Finding, type ReportPage, renderReportHtml } from './report/html.js';
export { renderSvg } from './report/svg.js';
export { escapeInlineScript, vendorScripts } from './report/vendorScripts.js';
