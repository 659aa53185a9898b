// Tr(F) estimators (trace/)
export { PER_EXAMPLE_CELLS, type PerExampleCell } from './trace/cells/index.js';
export { estimateFisherTrace } from './trace/estimate.js';
export {
  type LabelChoice,
  type PerExampleNorms,
  perExampleSquaredGradNorms,
  perExampleSquaredGradNormsByLoop,
} from './trace/per-example.js';
export {
  type LayerTraceEstimate,
  TRACE_ESTIMATORS,
  type TraceData,
  type TraceEstimate,
  type TraceEstimator,
  type TraceOptions,
} from './trace/types.js';
export { ModelWalker, type TappedLayer, type WalkTaps } from './trace/walker.js';
