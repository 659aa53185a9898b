import * as tf from '@tensorflow/tfjs';

/** d σ(x) = σ(x)(1 − σ(x)) dx, recomputed from the saved input (the stock one reads the saved output). */
export const sigmoidGradConfig: tf.GradConfig = {
  kernelName: tf.Sigmoid,
  inputsToSave: ['x'],
  gradFunc: (dy, saved) => {
    const [x] = saved as [tf.Tensor];
    return {
      x: () => {
        const y = tf.sigmoid(x);
        return tf.mul(dy as tf.Tensor, tf.mul(y, tf.sub(1, y)));
      },
    };
  },
};
