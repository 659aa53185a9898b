import * as tf from '@tensorflow/tfjs';

/**
 * d exp(x) = exp(x) dx, recomputed from the saved input. The stock gradient reads the saved output,
 * whose clone tfjs-core records on the tape before the Exp node itself (see ../secondorder/README),
 * so a second derivative silently drops the path through it.
 */
export const expGradConfig: tf.GradConfig = {
  kernelName: tf.Exp,
  inputsToSave: ['x'],
  gradFunc: (dy, saved) => {
    const [x] = saved as [tf.Tensor];
    return { x: () => tf.mul(dy as tf.Tensor, tf.exp(tf.cast(x, 'float32'))) };
  },
};
