import { installGradients } from '@fisherlab/engine';

// Double backprop (the penalty, Hessian-vector products) needs FisherLab's gradients on top of
// tfjs's; installing them here means importing this package is all the setup it takes.
installGradients();

// Errors (@fisherlab/core's, re-exported) and the input checks every public function runs
export { InputError, isInputError, NonFiniteError } from '@fisherlab/core';
// Curvature probes (curvature/)
export { type CurvatureOptions, FlatHessian } from './curvature/hessian.js';
export { type HessianTraceEstimate, hutchinsonHessianTrace } from './curvature/hutchinson.js';
export { type TopEigenvalueEstimate, topHessianEigenvalue } from './curvature/lanczos.js';
export { type SymmetricEigen, symmetricEigen } from './curvature/symmetric_eigen.js';
// Hessian-vector products (hvp/)
export { type HvpOptions, hessianVectorProduct, type LabelledBatch, lossGradient } from './hvp/exact.js';
export {
  checkFiniteDifferenceHvp,
  type FiniteDifferenceHvpOptions,
  finiteDifferenceHvp,
  type HvpAgreement,
} from './hvp/finite_difference.js';
export { batchNormVariableNames } from './hvp/parameters.js';
export { type ClassLabels, checkClassLabels, checkInputBatch } from './inputs.js';
export { LABEL_STREAM, sampleLabels, samplePenaltyLabels, type Uniform } from './labels.js';
// The check every public function runs on its model
export { assertLogitsModel } from './model-output.js';
// Fisher penalty and GradNorm (penalty/)
export {
  EXCLUDE_BATCH_NORM_DEFAULT,
  FisherPenalty,
  type FisherPenaltyOptions,
  PENALTY_KINDS,
  type PenalizedStep,
  type PenaltyKind,
} from './penalty/fisher_penalty.js';
export { PENALTY_METHODS, type PenaltyMethod } from './penalty/objective.js';
export {
  type PenaltyGradientOptions,
  type PenaltyValueAndGradient,
  penaltyValueAndGradient,
} from './penalty/penalty.js';
export { assertExactPenaltySupported, EXACT_PENALTY_LAYERS } from './penalty/supported-layers.js';
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
