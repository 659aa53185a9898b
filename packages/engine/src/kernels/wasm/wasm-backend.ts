import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/**
 * Small helpers shared by FisherLab's wasm kernels: calling the backend's own (XNNPACK-backed)
 * kernels as building blocks, and reading/writing tensors in place on the wasm heap.
 */

type Attrs = Record<string, unknown>;

/** Runs a kernel registered on the wasm backend directly (no tape, no engine bookkeeping). */
export function runWasmKernel(
  backend: BackendWasm,
  kernelName: string,
  inputs: Record<string, tf.TensorInfo>,
  attrs: Attrs = {},
): tf.TensorInfo {
  const kernel = tf.getKernel(kernelName, 'wasm');
  if (!kernel) throw new Error(`wasm backend has no '${kernelName}' kernel; FisherLab's kernels build on it`);
  const result = kernel.kernelFunc({ inputs, backend, attrs: attrs as tf.NamedAttrMap });
  if (Array.isArray(result)) throw new Error(`wasm kernel '${kernelName}' returned several outputs`);
  return result;
}

const stockKernels = new Map<string, tf.KernelConfig>();

/**
 * Remembers the stock wasm kernel a FisherLab kernel replaces, so the replacement can still
 * delegate to it (called by registerWasmKernels before it unregisters the stock one).
 */
export function rememberStockKernel(config: tf.KernelConfig): void {
  stockKernels.set(config.kernelName, config);
}

/** The stock wasm kernel that a FisherLab kernel of the same name replaced. */
export function stockWasmKernel(kernelName: string): tf.KernelConfig {
  const config = stockKernels.get(kernelName);
  if (!config) {
    throw new Error(
      `stock wasm kernel '${kernelName}' was not found when FisherLab's kernels were registered; ` +
        `import '@tensorflow/tfjs-backend-wasm' before calling registerWasmKernels() (initBackend does this)`,
    );
  }
  return config;
}

/** Frees intermediate tensors made inside a kernel. */
export function disposeIntermediate(backend: BackendWasm, ...infos: tf.TensorInfo[]): void {
  for (const info of infos) backend.disposeData(info.dataId);
}

/**
 * A float32 view of a tensor's data on the wasm heap. Take views only after the last allocation
 * in a kernel: an allocation can grow the heap and detach earlier views.
 */
export function heapFloat32(backend: BackendWasm, info: tf.TensorInfo): Float32Array {
  return backend.typedArrayFromHeap(info) as Float32Array;
}

/** A typed view of a tensor's data on the wasm heap (int32 for index outputs). */
export function heapInt32(backend: BackendWasm, info: tf.TensorInfo): Int32Array {
  return backend.typedArrayFromHeap(info) as Int32Array;
}

export type { BackendWasm };
