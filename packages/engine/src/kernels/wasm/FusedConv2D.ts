import * as tf from '@tensorflow/tfjs';
import { recordFusedConv2D } from '../../secondorder/fused_conv_gradient.js';
import { stockWasmKernel } from './wasm-backend.js';

/**
 * The stock wasm FusedConv2D, recording its attrs per output so the backward walk can skip the
 * gradient of an input that needs none (see secondorder/fused_conv_gradient.ts).
 */
function fusedConv2D(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: tf.KernelBackend;
  attrs: tf.NamedAttrMap;
}): tf.TensorInfo {
  const y = stockWasmKernel(tf.FusedConv2D).kernelFunc(args as never) as tf.TensorInfo;
  recordFusedConv2D(y, args.attrs);
  return y;
}

export const fusedConv2DConfig: tf.KernelConfig = {
  kernelName: tf.FusedConv2D,
  backendName: 'wasm',
  kernelFunc: fusedConv2D as unknown as tf.KernelFunc,
  // The stock kernel binds its wasm function here.
  setupFunc: (backend) => stockWasmKernel(tf.FusedConv2D).setupFunc?.(backend),
};
