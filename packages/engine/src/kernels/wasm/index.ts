import * as tf from '@tensorflow/tfjs';
import { avgPoolGradConfig } from './AvgPoolGrad.js';
import { conv2DBackpropFilterConfig } from './Conv2DBackpropFilter.js';
import { conv2DBackpropInputConfig } from './Conv2DBackpropInput.js';
import { maxPoolGradConfig } from './MaxPoolGrad.js';
import { maxPoolWithArgmaxConfig } from './MaxPoolWithArgmax.js';

/**
 * Kernels FisherLab registers on the wasm backend (missing, wrong or slow in tfjs 4.22), one file
 * each, listed here.
 */
export const WASM_KERNEL_CONFIGS: tf.KernelConfig[] = [
  avgPoolGradConfig,
  conv2DBackpropFilterConfig,
  conv2DBackpropInputConfig,
  maxPoolGradConfig,
  maxPoolWithArgmaxConfig,
];

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
