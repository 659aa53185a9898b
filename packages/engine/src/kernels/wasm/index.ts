import * as tf from '@tensorflow/tfjs';
import { avgPoolGradConfig } from './AvgPoolGrad.js';
import { batchMatMulConfig } from './BatchMatMul.js';
import { conv2DBackpropFilterConfig } from './Conv2DBackpropFilter.js';
import { conv2DBackpropInputConfig } from './Conv2DBackpropInput.js';
import { fusedConv2DConfig } from './FusedConv2D.js';
import { fusedMatMulConfig } from './FusedMatMul.js';
import { castConfig, identityConfig } from './Identity.js';
import { maxPoolGradConfig } from './MaxPoolGrad.js';
import { maxPoolWithArgmaxConfig } from './MaxPoolWithArgmax.js';
import { meanConfig } from './Mean.js';
import { sliceConfig, splitVConfig, stridedSliceConfig, unpackConfig } from './Slice.js';
import { sumConfig } from './Sum.js';
import { rememberStockKernel } from './wasm-backend.js';

/**
 * Kernels FisherLab registers on the wasm backend (missing, wrong or slow in tfjs 4.22), one file
 * each, listed here.
 */
export const WASM_KERNEL_CONFIGS: tf.KernelConfig[] = [
  avgPoolGradConfig,
  batchMatMulConfig,
  castConfig,
  conv2DBackpropFilterConfig,
  conv2DBackpropInputConfig,
  fusedConv2DConfig,
  fusedMatMulConfig,
  identityConfig,
  maxPoolGradConfig,
  maxPoolWithArgmaxConfig,
  meanConfig,
  sliceConfig,
  splitVConfig,
  stridedSliceConfig,
  sumConfig,
  unpackConfig,
];

let registered = false;

/** Registers FisherLab's wasm kernels, replacing stock ones of the same name. */
export function registerWasmKernels(): void {
  if (registered) return;
  if (!tf.getKernel(tf.Conv2D, 'wasm')) {
    throw new Error(
      "registerWasmKernels(): the wasm backend's own kernels are not registered yet; import " +
        "'@tensorflow/tfjs-backend-wasm' first (initBackend does), or FisherLab's kernels would be overwritten",
    );
  }
  for (const config of WASM_KERNEL_CONFIGS) {
    const stock = tf.getKernel(config.kernelName, 'wasm');
    if (stock) {
      rememberStockKernel(stock);
      tf.unregisterKernel(config.kernelName, 'wasm');
    }
    tf.registerKernel(config);
  }
  registered = true;
}
