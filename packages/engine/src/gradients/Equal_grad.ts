import * as tf from '@tensorflow/tfjs';

/** Equal is piecewise constant: its derivative is zero wherever it exists (reached from max/logSumExp). */
export const equalGradConfig: tf.GradConfig = {
  kernelName: tf.Equal,
  inputsToSave: ['a', 'b'],
  gradFunc: (_dy, saved) => {
    const [a, b] = saved as [tf.Tensor, tf.Tensor];
    return { a: () => tf.zeros(a.shape), b: () => tf.zeros(b.shape) };
  },
};
