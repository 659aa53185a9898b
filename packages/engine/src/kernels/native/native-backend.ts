import type * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '../wasm/wasm-backend.js';
import type { NativeAddon } from './addon.js';

/**
 * State shared by the native kernels: the loaded addon and the kernels they replaced on the wasm
 * backend (FisherLab's wasm kernels or the stock ones), which they delegate to for the cases the
 * addon does not cover.
 */

let activeAddon: NativeAddon | undefined;
const replacedKernels = new Map<string, tf.KernelConfig>();

export function setNativeAddon(addon: NativeAddon | undefined): void {
  activeAddon = addon;
}

export function nativeAddon(): NativeAddon {
  if (!activeAddon)
    throw new Error(
      'a native kernel ran with no native addon loaded; call registerNativeKernels(addon) first (initBackend does)',
    );
  return activeAddon;
}

export function rememberReplacedKernel(config: tf.KernelConfig): void {
  replacedKernels.set(config.kernelName, config);
}

export function forgetReplacedKernel(kernelName: string): tf.KernelConfig | undefined {
  const config = replacedKernels.get(kernelName);
  replacedKernels.delete(kernelName);
  return config;
}

/** Runs the wasm kernel a native one replaced, for a case the addon does not cover. */
export function runReplacedKernel(
  kernelName: string,
  args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs: tf.NamedAttrMap },
): tf.TensorInfo {
  const config = replacedKernels.get(kernelName);
  if (!config)
    throw new Error(
      `native kernel '${kernelName}' has no wasm kernel to delegate to: call registerWasmKernels() before registerNativeKernels() (initBackend does)`,
    );
  return config.kernelFunc(args as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
}

/**
 * Makes a float32 output of `shape` and lets the addon fill it; when the addon declines the shape
 * (`compute` returns false: only oneDNN's unsafe jit gemm would do), frees the output and runs the
 * replaced wasm kernel instead.
 */
export function computeOrDelegate(
  kernelName: string,
  args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs: tf.NamedAttrMap },
  shape: number[],
  compute: (out: tf.TensorInfo) => boolean,
): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const out = backend.makeOutput(shape, 'float32');
  if (compute(out)) return out;
  backend.disposeData(out.dataId);
  return runReplacedKernel(kernelName, args);
}
