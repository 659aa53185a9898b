import * as tf from '@tensorflow/tfjs';
import { type BackendWasm, heapFloat32 } from '../wasm/wasm-backend.js';
import type { NativeAddon } from './addon.js';
import { NativeBackend } from './native-tf-backend.js';

/**
 * State shared by the native kernels, which run on two backends: on wasm (the native tier, over
 * the wasm heap) and on the native backend (over JS memory). Here: the loaded addon, the kernels
 * they replaced on wasm (FisherLab's wasm kernels or the stock ones), and the few memory
 * operations whose form depends on the backend. Cases the addon does not cover go to the replaced
 * wasm kernel on wasm and to the cpu backend's kernel on the native backend.
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

/**
 * The float32 data of a tensor, in place: a view of the wasm heap (take views only after the
 * last allocation in a kernel: an allocation can grow the heap and detach earlier views) or the
 * native backend's own array.
 */
export function floatsOf(backend: tf.KernelBackend, info: tf.TensorInfo): Float32Array {
  return backend instanceof NativeBackend ? backend.floats(info) : heapFloat32(backend as BackendWasm, info);
}

/** A float32 output of `shape` for a native kernel to fill. */
export function makeFloatOutput(backend: tf.KernelBackend, shape: number[]): tf.TensorInfo {
  return backend instanceof NativeBackend
    ? backend.makeFloatOutput(shape)
    : (backend as BackendWasm).makeOutput(shape, 'float32');
}

/** Frees an output a native kernel made and did not return. */
export function disposeOutput(backend: tf.KernelBackend, info: tf.TensorInfo): void {
  if (backend instanceof NativeBackend) backend.disposeIntermediateTensorInfo(info);
  else backend.disposeData(info.dataId);
}

/**
 * Runs the kernel a native one stands in for, for a case the addon does not cover: on the native
 * backend the cpu backend's kernel (the native backend is a cpu backend underneath), on wasm the
 * kernel the native one replaced.
 */
export function runReplacedKernel(
  kernelName: string,
  args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs: tf.NamedAttrMap },
): tf.TensorInfo {
  if (args.backend instanceof NativeBackend) {
    const cpu = tf.getKernel(kernelName, 'cpu');
    if (!cpu)
      throw new Error(`native backend: the cpu backend has no '${kernelName}' kernel to fall back on`);
    return cpu.kernelFunc(args as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
  }
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
 * replaced kernel instead.
 */
export function computeOrDelegate(
  kernelName: string,
  args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs: tf.NamedAttrMap },
  shape: number[],
  compute: (out: tf.TensorInfo) => boolean,
): tf.TensorInfo {
  const out = makeFloatOutput(args.backend, shape);
  if (compute(out)) return out;
  disposeOutput(args.backend, out);
  return runReplacedKernel(kernelName, args);
}
