export * as tf from '@tensorflow/tfjs';
export {
  activeBackend,
  BACKEND_PREFERENCE,
  type BackendAttempt,
  type BackendChoice,
  type BackendLoader,
  type BackendReport,
  type BackendRequest,
  backendFromEnv,
  describeBackendFailure,
  initBackend,
} from './backend.js';
export { GRADIENT_CONFIGS, installGradients } from './gradients/index.js';
export { registerWasmKernels, WASM_KERNEL_CONFIGS } from './kernels/wasm/index.js';
export {
  logSoftmaxExact,
  softmaxCrossEntropy,
  softmaxCrossEntropyPerExample,
} from './losses/softmax_cross_entropy.js';
export { stopGradient } from './secondorder/stop_gradient.js';
