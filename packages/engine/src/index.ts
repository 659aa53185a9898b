export * as tf from '@tensorflow/tfjs';
export {
  activeBackend,
  BACKEND_PREFERENCE,
  type BackendAttempt,
  type BackendChoice,
  type BackendDevice,
  type BackendLoader,
  type BackendReport,
  type BackendRequest,
  backendFromEnv,
  checkBackendEnvironment,
  describeBackendFailure,
  describeDevice,
  EnvironmentSettingError,
  initBackend,
  type MemoryCeiling,
  memoryCeilingOf,
  prepareActiveBackend,
  WASM_HEAP_BYTES,
} from './backend.js';
export { GRADIENT_CONFIGS, installGradients } from './gradients/index.js';
export {
  NATIVE_KERNEL_CONFIGS,
  nativeKernelsRegistered,
  registerNativeBackend,
  registerNativeKernels,
  unregisterNativeKernels,
} from './kernels/native/index.js';
export { NATIVE_BACKEND_NAME, NativeBackend } from './kernels/native/native-tf-backend.js';
export {
  type PerExampleConv2DFilterNormsAttrs,
  perExampleConv2DFilterSquaredNorms,
} from './kernels/native/PerExampleConv2DFilterNorms.js';
export {
  type NativeMode,
  type NativeTierReport,
  nativeModeFromEnv,
  nativeThreadsFromEnv,
  setUpNativeTier,
} from './kernels/native/tier.js';
export { registerWasmKernels, WASM_KERNEL_CONFIGS } from './kernels/wasm/index.js';
export {
  logSoftmaxExact,
  softmaxCrossEntropy,
  softmaxCrossEntropyPerExample,
} from './losses/softmax_cross_entropy.js';
export { leanGradientsAvailable, leanVariableGrads } from './secondorder/lean_gradients.js';
export { stopGradient } from './secondorder/stop_gradient.js';
