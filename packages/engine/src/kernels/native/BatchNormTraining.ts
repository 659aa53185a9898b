import * as tf from '@tensorflow/tfjs';
import { floatsOf, makeFloatOutput, nativeAddon } from './native-backend.js';
import { NATIVE_BACKEND_NAME } from './native-tf-backend.js';

/**
 * Training-mode batch norm as three kernels of the native backend, each one pass to read and one
 * to write (tfjs-layers runs it as moments and a normalization, about twenty memory-bound passes
 * over forward and backward, each output kept for the double backprop):
 * - `FisherlabBatchNormTraining` {x, scale, offset} → [y, mean, variance]: the batch's statistics
 *   per channel of the last axis and y = (x − mean)·scale/√(variance + ε) + offset;
 * - `FisherlabBatchNormTrainingGrad` {dy, x, scale, dmean, dvariance} → [dx, dscale, doffset];
 * - `FisherlabBatchNormTrainingGradGrad` {dy, x, scale, dvariance, ddx, ddscale, ddoffset} →
 *   [ddy, dx, dscale, ddmean, ddvariance]: the backward kernel's own derivatives, which the Fisher
 *   penalty's outer backward pass needs. It has no gradient (a third derivative throws).
 * The formulas are beside the loops in native/src/batch_norm.cc; the gradients that connect them are
 * in ../../gradients/BatchNormTraining_grad.ts, the op in ../../layers/batch_norm_training.ts.
 */
export const BATCH_NORM_TRAINING = 'FisherlabBatchNormTraining';
export const BATCH_NORM_TRAINING_GRAD = 'FisherlabBatchNormTrainingGrad';
export const BATCH_NORM_TRAINING_GRAD_GRAD = 'FisherlabBatchNormTrainingGradGrad';

export interface BatchNormTrainingAttrs {
  varianceEpsilon: number;
}

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs: tf.NamedAttrMap };

/** [rows, channels] of x (channels: its last axis), checking every per-channel input against it. */
function layoutOf(kernelName: string, inputs: tf.NamedTensorInfoMap, perChannel: string[]): [number, number] {
  const x = inputs['x'] as tf.TensorInfo;
  const channels = x.shape[x.shape.length - 1] ?? 0;
  const size = tf.util.sizeFromShape(x.shape);
  if (x.shape.length < 2 || size === 0) {
    throw new Error(`${kernelName}: x must have rank 2 or more and no empty axis, got shape [${x.shape}]`);
  }
  for (const [name, info] of Object.entries(inputs) as [string, tf.TensorInfo][]) {
    if (info.dtype !== 'float32')
      throw new Error(`${kernelName}: ${name} must be float32, got ${info.dtype}`);
    const expected = perChannel.includes(name) ? channels : size;
    if (tf.util.sizeFromShape(info.shape) !== expected) {
      throw new Error(
        `${kernelName}: ${name} has shape [${info.shape}], expected ${expected} values for x of shape [${x.shape}]`,
      );
    }
  }
  return [size / channels, channels];
}

function batchNormTraining({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo[] {
  const [rows, channels] = layoutOf(BATCH_NORM_TRAINING, inputs, ['scale', 'offset']);
  const { x, scale, offset } = inputs as Record<'x' | 'scale' | 'offset', tf.TensorInfo>;
  const { varianceEpsilon } = attrs as unknown as BatchNormTrainingAttrs;
  const y = makeFloatOutput(backend, x.shape);
  const mean = makeFloatOutput(backend, [channels]);
  const variance = makeFloatOutput(backend, [channels]);
  const f = (info: tf.TensorInfo) => floatsOf(backend, info);
  nativeAddon().batchNormTraining(
    rows,
    channels,
    f(x),
    f(scale),
    f(offset),
    varianceEpsilon,
    f(y),
    f(mean),
    f(variance),
  );
  return [y, mean, variance];
}

function batchNormTrainingGrad({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo[] {
  const [rows, channels] = layoutOf(BATCH_NORM_TRAINING_GRAD, inputs, ['scale', 'dmean', 'dvariance']);
  const { dy, x, scale, dmean, dvariance } = inputs as Record<
    'dy' | 'x' | 'scale' | 'dmean' | 'dvariance',
    tf.TensorInfo
  >;
  const { varianceEpsilon } = attrs as unknown as BatchNormTrainingAttrs;
  const dx = makeFloatOutput(backend, x.shape);
  const dscale = makeFloatOutput(backend, scale.shape);
  const doffset = makeFloatOutput(backend, scale.shape);
  const f = (info: tf.TensorInfo) => floatsOf(backend, info);
  nativeAddon().batchNormTrainingGrad(
    rows,
    channels,
    f(dy),
    f(x),
    f(scale),
    f(dmean),
    f(dvariance),
    varianceEpsilon,
    f(dx),
    f(dscale),
    f(doffset),
  );
  return [dx, dscale, doffset];
}

function batchNormTrainingGradGrad({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo[] {
  const perChannel = ['scale', 'dvariance', 'ddscale', 'ddoffset'];
  const [rows, channels] = layoutOf(BATCH_NORM_TRAINING_GRAD_GRAD, inputs, perChannel);
  const { dy, x, scale, dvariance, ddx, ddscale, ddoffset } = inputs as Record<
    string,
    tf.TensorInfo
  > as Record<'dy' | 'x' | 'scale' | 'dvariance' | 'ddx' | 'ddscale' | 'ddoffset', tf.TensorInfo>;
  const { varianceEpsilon } = attrs as unknown as BatchNormTrainingAttrs;
  const ddy = makeFloatOutput(backend, x.shape);
  const dx = makeFloatOutput(backend, x.shape);
  const dscale = makeFloatOutput(backend, scale.shape);
  const ddmean = makeFloatOutput(backend, [channels]);
  const ddvariance = makeFloatOutput(backend, [channels]);
  const f = (info: tf.TensorInfo) => floatsOf(backend, info);
  nativeAddon().batchNormTrainingGradGrad(
    rows,
    channels,
    f(dy),
    f(x),
    f(scale),
    f(dvariance),
    f(ddx),
    f(ddscale),
    f(ddoffset),
    varianceEpsilon,
    f(ddy),
    f(dx),
    f(dscale),
    f(ddmean),
    f(ddvariance),
  );
  return [ddy, dx, dscale, ddmean, ddvariance];
}

/** The three kernels, on the native backend only (no cpu or wasm counterpart: the layer routes to them there). */
export const NATIVE_BATCH_NORM_TRAINING_KERNEL_CONFIGS: tf.KernelConfig[] = [
  [BATCH_NORM_TRAINING, batchNormTraining],
  [BATCH_NORM_TRAINING_GRAD, batchNormTrainingGrad],
  [BATCH_NORM_TRAINING_GRAD_GRAD, batchNormTrainingGradGrad],
].map(([kernelName, kernelFunc]) => ({
  kernelName: kernelName as string,
  backendName: NATIVE_BACKEND_NAME,
  kernelFunc: kernelFunc as unknown as tf.KernelFunc,
}));
