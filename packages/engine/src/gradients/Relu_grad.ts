import * as tf from '@tensorflow/tfjs';
import { RELU_GRAD } from '../kernels/native/elementwise.js';
import { NATIVE_BACKEND_NAME } from '../kernels/native/native-tf-backend.js';

/**
 * d relu(x) = dy·step(x). On the native backend one kernel (`FisherlabReluGrad`), elsewhere the
 * stock formula (Step, then Multiply). The kernel's own gradient: linear in dy with the same mask,
 * and zero in x (step is piecewise constant), as the stock Step's gradient is.
 */
const onNative = () => tf.getBackend() === NATIVE_BACKEND_NAME;

function reluGrad(dy: tf.Tensor, x: tf.Tensor): tf.Tensor {
  if (onNative() && x.dtype === 'float32' && dy.dtype === 'float32')
    return tf.engine().runKernel(RELU_GRAD, { dy, x }) as tf.Tensor;
  return tf.mul(dy, tf.step(tf.cast(x, 'float32')));
}

export const reluGradConfig: tf.GradConfig = {
  kernelName: tf.Relu,
  inputsToSave: ['x'],
  gradFunc: (dy, saved) => {
    const [x] = saved as [tf.Tensor];
    return { x: () => reluGrad(dy as tf.Tensor, x) };
  },
};

export const reluGradGradConfig: tf.GradConfig = {
  kernelName: RELU_GRAD,
  inputsToSave: ['x'],
  gradFunc: (ddx, saved) => {
    const [x] = saved as [tf.Tensor];
    return { dy: () => reluGrad(ddx as tf.Tensor, x), x: () => tf.zerosLike(x) };
  },
};
