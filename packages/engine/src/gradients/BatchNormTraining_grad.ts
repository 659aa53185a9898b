import * as tf from '@tensorflow/tfjs';
import {
  BATCH_NORM_TRAINING,
  BATCH_NORM_TRAINING_GRAD,
  BATCH_NORM_TRAINING_GRAD_GRAD,
} from '../kernels/native/BatchNormTraining.js';

/**
 * The gradients of the native backend's training-mode batch norm (../kernels/native/BatchNormTraining.ts):
 * the forward kernel's is the backward kernel, and the backward kernel's is the kernel of its own
 * derivatives (so the Fisher penalty's double backprop runs one kernel per batch norm each way).
 * Both save inputs only (the statistics are recomputed from x in the same read pass that forms the
 * gradient's sums, so no saved output meets the tape-order bug of ../secondorder/README.md), and
 * run their kernel once for all inputs: the lean walk frees what a pruned input leaves unused
 * when the node is done.
 */
export const batchNormTrainingGradConfig: tf.GradConfig = {
  kernelName: BATCH_NORM_TRAINING,
  inputsToSave: ['x', 'scale'],
  gradFunc: (dys, saved, attrs) => {
    const [dy, dmean, dvariance] = dys as tf.Tensor[];
    const [x, scale] = saved as [tf.Tensor, tf.Tensor];
    const [dx, dscale, doffset] = tf
      .engine()
      .runKernel(
        BATCH_NORM_TRAINING_GRAD,
        { dy, x, scale, dmean, dvariance } as unknown as tf.NamedTensorMap,
        attrs as tf.NamedAttrMap,
      ) as tf.Tensor[];
    return { x: () => dx as tf.Tensor, scale: () => dscale as tf.Tensor, offset: () => doffset as tf.Tensor };
  },
};

export const batchNormTrainingGradGradConfig: tf.GradConfig = {
  kernelName: BATCH_NORM_TRAINING_GRAD,
  inputsToSave: ['dy', 'x', 'scale', 'dvariance'],
  gradFunc: (dys, saved, attrs) => {
    const [ddx, ddscale, ddoffset] = dys as tf.Tensor[];
    const [dy, x, scale, dvariance] = saved as tf.Tensor[];
    const [ddy, dx, dscale, ddmean, ddvariance] = tf
      .engine()
      .runKernel(
        BATCH_NORM_TRAINING_GRAD_GRAD,
        { dy, x, scale, dvariance, ddx, ddscale, ddoffset } as unknown as tf.NamedTensorMap,
        attrs as tf.NamedAttrMap,
      ) as tf.Tensor[];
    return {
      dy: () => ddy as tf.Tensor,
      x: () => dx as tf.Tensor,
      scale: () => dscale as tf.Tensor,
      dmean: () => ddmean as tf.Tensor,
      dvariance: () => ddvariance as tf.Tensor,
    };
  },
};
