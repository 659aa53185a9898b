import * as tf from '@tensorflow/tfjs';
import { maxPoolSelectGradConfig } from '../kernels/native/MaxPoolSelect.js';
import { avgPoolGradConfig } from './AvgPool_grad.js';
import { avgPoolGradGradConfig } from './AvgPoolGrad_grad.js';
import { batchNormTrainingGradConfig, batchNormTrainingGradGradConfig } from './BatchNormTraining_grad.js';
import { conv2DBackpropFilterGradConfig } from './Conv2DBackpropFilter_grad.js';
import {
  depthwiseConv2dNativeBackpropFilterGradConfig,
  depthwiseConv2dNativeBackpropInputGradConfig,
} from './DepthwiseConv2dNativeBackprop_grad.js';
import { equalGradConfig } from './Equal_grad.js';
import { expGradConfig } from './Exp_grad.js';
import { fusedBatchNormGradConfig } from './FusedBatchNorm_grad.js';
import { maxPoolGradGradConfig } from './MaxPoolGrad_grad.js';
import { meanGradConfig, sumGradConfig } from './Reduction_grad.js';
import { reluGradConfig, reluGradGradConfig } from './Relu_grad.js';
import { sigmoidGradConfig } from './Sigmoid_grad.js';
import { softmaxGradConfig } from './Softmax_grad.js';
import { tanhGradConfig } from './Tanh_grad.js';
import { tileGradConfig } from './Tile_grad.js';

/**
 * Gradient functions FisherLab registers on top of tfjs-core (every backend, GPU included), one
 * file each, listed here. Three reasons a kernel is here:
 * - it has no gradient, so double backprop through it throws (Conv2DBackpropFilter, MaxPoolGrad,
 *   AvgPoolGrad, DepthwiseConv2dNativeBackpropFilter and BackpropInput, Equal);
 * - its stock gradient reads the op's saved output, which breaks second derivatives (Exp, Tanh,
 *   Sigmoid, Softmax; see ../secondorder/README.md);
 * - its stock gradient is too slow or too memory-hungry under double backprop (Tile,
 *   FusedBatchNorm, Sum and Mean; Relu on the native backend), or wrong (AvgPool with padding);
 * - it is FisherLab's own kernel (the native tier's max-pool select, used by MaxPoolGrad's gradient;
 *   the native backend's training-mode batch norm and its backward).
 */
export const GRADIENT_CONFIGS: tf.GradConfig[] = [
  avgPoolGradConfig,
  avgPoolGradGradConfig,
  batchNormTrainingGradConfig,
  batchNormTrainingGradGradConfig,
  conv2DBackpropFilterGradConfig,
  depthwiseConv2dNativeBackpropFilterGradConfig,
  depthwiseConv2dNativeBackpropInputGradConfig,
  equalGradConfig,
  expGradConfig,
  fusedBatchNormGradConfig,
  maxPoolGradGradConfig,
  maxPoolSelectGradConfig,
  meanGradConfig,
  reluGradConfig,
  reluGradGradConfig,
  sigmoidGradConfig,
  softmaxGradConfig,
  sumGradConfig,
  tanhGradConfig,
  tileGradConfig,
];

let installed = false;

/** Registers FisherLab's gradients once per process (replacing stock ones); later calls do nothing. */
export function installGradients(): void {
  if (installed) return;
  for (const config of GRADIENT_CONFIGS) tf.registerGradient(config);
  installed = true;
}
