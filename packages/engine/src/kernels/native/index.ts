import * as tf from '@tensorflow/tfjs';
import { routeBatchNormalization } from '../../layers/batch_normalization.js';
import type { NativeAddon } from './addon.js';
import { nativeBatchMatMulConfig } from './BatchMatMul.js';
import { NATIVE_BATCH_NORM_TRAINING_KERNEL_CONFIGS } from './BatchNormTraining.js';
import { nativeConv2DConfig } from './Conv2D.js';
import { nativeConv2DBackpropFilterConfig } from './Conv2DBackpropFilter.js';
import { nativeConv2DBackpropInputConfig } from './Conv2DBackpropInput.js';
import { nativeMeanConfig, nativeSumConfig } from './column-sums.js';
import { NATIVE_COPY_KERNEL_CONFIGS } from './copies.js';
import { NATIVE_ELEMENTWISE_KERNEL_CONFIGS } from './elementwise.js';
import { nativeFusedBatchNormConfig } from './FusedBatchNorm.js';
import { nativeFusedConv2DConfig } from './FusedConv2D.js';
import { nativeFusedMatMulConfig } from './FusedMatMul.js';
import { nativeMaxPoolConfig } from './MaxPool.js';
import { nativeMaxPoolGradConfig } from './MaxPoolGrad.js';
import { nativeMaxPoolSelectConfig } from './MaxPoolSelect.js';
import { forgetReplacedKernel, rememberReplacedKernel, setNativeAddon } from './native-backend.js';
import { guardAliasing, NATIVE_BACKEND_NAME, NativeBackend } from './native-tf-backend.js';
import { nativePerExampleConv2DFilterSquaredNormsConfig } from './PerExampleConv2DFilterNorms.js';

/** Kernels the native tier registers on the wasm backend, on top of FisherLab's wasm kernels (one file each). */
export const NATIVE_KERNEL_CONFIGS: tf.KernelConfig[] = [
  nativeBatchMatMulConfig,
  nativeConv2DConfig,
  nativeConv2DBackpropFilterConfig,
  nativeConv2DBackpropInputConfig,
  nativeFusedBatchNormConfig,
  nativeFusedConv2DConfig,
  nativeFusedMatMulConfig,
  nativeMaxPoolConfig,
  nativeMaxPoolGradConfig,
  nativeMeanConfig,
  nativeSumConfig,
];

/** Kernels only the native tier has (no wasm kernel underneath): registered and removed with the others. */
export const NATIVE_ONLY_KERNEL_CONFIGS: tf.KernelConfig[] = [
  nativeMaxPoolSelectConfig,
  nativePerExampleConv2DFilterSquaredNormsConfig,
];

let registered = false;

/**
 * Replaces the wasm backend's convolution kernels with the addon's. Call after
 * registerWasmKernels(): the kernels replaced then (FisherLab's or stock) are kept for the cases
 * the addon does not cover and restored by unregisterNativeKernels().
 */
export function registerNativeKernels(addon: NativeAddon): void {
  setNativeAddon(addon);
  if (registered) return;
  for (const config of NATIVE_KERNEL_CONFIGS) {
    const replaced = tf.getKernel(config.kernelName, 'wasm');
    if (!replaced) {
      throw new Error(
        `registerNativeKernels(): the wasm backend has no '${config.kernelName}' kernel to fall back on; ` +
          "import '@tensorflow/tfjs-backend-wasm' and call registerWasmKernels() first (initBackend does)",
      );
    }
    rememberReplacedKernel(replaced);
    tf.unregisterKernel(config.kernelName, 'wasm');
    // The stock kernels bind their wasm functions in setupFunc, which tfjs runs for the registered
    // config on setBackend; keep it so the fallback path stays bound.
    tf.registerKernel({ ...config, setupFunc: replaced.setupFunc });
  }
  for (const config of NATIVE_ONLY_KERNEL_CONFIGS) tf.registerKernel(config);
  registered = true;
}

/** Puts back the wasm kernels the native ones replaced (the plain wasm tier). */
export function unregisterNativeKernels(): void {
  if (!registered) return;
  for (const config of NATIVE_KERNEL_CONFIGS) {
    const replaced = forgetReplacedKernel(config.kernelName);
    tf.unregisterKernel(config.kernelName, 'wasm');
    if (replaced) tf.registerKernel(replaced);
  }
  for (const config of NATIVE_ONLY_KERNEL_CONFIGS) tf.unregisterKernel(config.kernelName, 'wasm');
  // The native backend runs the same kernels on the same addon.
  if (!nativeBackendRegistered) setNativeAddon(undefined);
  registered = false;
}

/** Whether the native kernels are the ones registered on wasm now. */
export function nativeKernelsRegistered(): boolean {
  return registered;
}

let nativeBackendRegistered = false;

/**
 * Registers the `native` backend with tfjs: a cpu backend whose tensors live in JS memory, running
 * every kernel the cpu backend has and, over the hot ones, the addon's (the same kernels the
 * native tier runs on wasm; cases the addon does not cover go to the cpu kernel), and routes
 * tfjs-layers' BatchNormalization in training mode to the fused kernels. Idempotent.
 */
export function registerNativeBackend(addon: NativeAddon): void {
  setNativeAddon(addon);
  if (nativeBackendRegistered) return;
  // Priority 0: tfjs never picks it by itself; initBackend sets it explicitly.
  tf.registerBackend(NATIVE_BACKEND_NAME, () => new NativeBackend(), 0);
  const own = [
    ...NATIVE_KERNEL_CONFIGS,
    ...NATIVE_ONLY_KERNEL_CONFIGS,
    ...NATIVE_ELEMENTWISE_KERNEL_CONFIGS,
    ...NATIVE_COPY_KERNEL_CONFIGS,
    ...NATIVE_BATCH_NORM_TRAINING_KERNEL_CONFIGS,
  ];
  const ownNames = new Set(own.map((c) => c.kernelName));
  for (const config of tf.getKernelsForBackend('cpu')) {
    if (ownNames.has(config.kernelName) || tf.getKernel(config.kernelName, NATIVE_BACKEND_NAME)) continue;
    tf.registerKernel({
      ...config,
      backendName: NATIVE_BACKEND_NAME,
      kernelFunc: guardAliasing(config.kernelFunc),
    });
  }
  for (const config of own) {
    if (tf.getKernel(config.kernelName, NATIVE_BACKEND_NAME))
      tf.unregisterKernel(config.kernelName, NATIVE_BACKEND_NAME);
    tf.registerKernel({
      kernelName: config.kernelName,
      backendName: NATIVE_BACKEND_NAME,
      kernelFunc: config.kernelFunc,
    });
  }
  routeBatchNormalization();
  nativeBackendRegistered = true;
}

/** Whether `registerNativeBackend` has run. */
export function nativeBackendIsRegistered(): boolean {
  return nativeBackendRegistered;
}
