import * as tf from '@tensorflow/tfjs';

/**
 * x itself, with a zero derivative of every order: tfjs has no stop_gradient op, and a customGrad's
 * forward pass is not recorded on the tape. Use it for shifts that leave a function's value
 * unchanged (the max subtracted inside logSumExp), so no gradient flows through max/Equal.
 */
export const stopGradient: <T extends tf.Tensor>(x: T) => T = tf.customGrad((...args) => {
  const x = args[0] as tf.Tensor;
  const shape = x.shape;
  return { value: tf.clone(x), gradFunc: () => tf.zeros(shape) };
}) as <T extends tf.Tensor>(x: T) => T;
