import { installGradients } from '@fisherlab/engine';

// Double backprop (the penalty, Hessian-vector products) needs FisherLab's gradients on top of
// tfjs's; installing them here means importing this package is all the setup it takes.
installGradients();

// Errors (@fisherlab/core's, re-exported) and the input checks every public function runs
export { InputError, isInputError, NonFiniteError } from '@fisherlab/core';
// Curvature algorithms on any linear operator (curvature/)
export {
  type BroadenedDensity,
  type BroadeningOptions,
  broadenDensity,
  type QuadratureRun,
  type SpectralDensity,
  spectralDensity,
} from './curvature/density.js';
export {
  type CurvatureOptions,
  type HessianTraceEstimate,
  hutchinsonHessianTrace,
  hutchinsonTrace,
  type TraceProbeEstimate,
} from './curvature/hutchinson.js';
export {
  type EigenOptions,
  type LanczosRun,
  lanczos,
  type RitzPairs,
  ritzPairs,
  type TopEigenpairs,
  type TopEigenvalueEstimate,
  topEigenpairs,
  topHessianEigenvalue,
} from './curvature/lanczos.js';
export { type PowerIterationEstimate, powerIteration } from './curvature/power.js';
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
// Curvature as linear operators: Hessian, GGN, Fisher, and the Fisher's diagonal (operators/)
export { batchesOf } from './operators/data.js';
export { type FisherDiagonal, fisherDiagonal } from './operators/diagonal.js';
export {
  FISHER_TYPES,
  type FisherOperatorOptions,
  type FisherType,
  fisherOperator,
} from './operators/fisher.js';
export { GGNOperator } from './operators/ggn.js';
export { HessianOperator } from './operators/hessian.js';
export {
  CURVATURE_LOSSES,
  type CurvatureLoss,
  type CurvatureLossName,
  crossEntropy,
  meanSquaredError,
} from './operators/losses.js';
export { ModelCurvatureOperator, type OperatorOptions } from './operators/model-operator.js';
export { jacobianVectorProduct, vectorJacobianProduct } from './operators/products.js';
export {
  type CurvatureBatch,
  type CurvatureData,
  denseOperator,
  type LinearOperator,
  type ModelOperator,
  ParameterLayout,
} from './operators/types.js';
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
