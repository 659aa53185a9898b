import * as tf from '@tensorflow/tfjs';

/** d tanh(x) = (1 − tanh²(x)) dx, recomputed from the saved input (the stock one reads the saved output). */
export const tanhGradConfig: tf.GradConfig = {
  kernelName: tf.Tanh,
  inputsToSave: ['x'],
  gradFunc: (dy, saved) => {
    const [x] = saved as [tf.Tensor];
    return {
      x: () => {
        const y = tf.tanh(x);
        return tf.mul(dy as tf.Tensor, tf.sub(1, tf.square(y)));
      },
    };
  },
};
