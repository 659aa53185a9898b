import * as tf from '@tensorflow/tfjs';

/**
 * Kernels FisherLab registers on the wasm backend (missing, wrong or slow in tfjs 4.22), one file
 * each, listed here.
 */
export const WASM_KERNEL_CONFIGS: tf.KernelConfig[] = [];

let registered = false;

/** Registers FisherLab's wasm kernels, replacing stock ones of the same name. */
export function registerWasmKernels(): void {
  if (registered) return;
  for (const config of WASM_KERNEL_CONFIGS) {
    if (tf.getKernel(config.kernelName, 'wasm')) tf.unregisterKernel(config.kernelName, 'wasm');
    tf.registerKernel(config);
  }
  registered = true;
}
