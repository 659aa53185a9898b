import * as tf from '@tensorflow/tfjs';

/**
 * Softmax s = softmax(z) along `dim`: dz = s ⊙ dy − s ⊙ Σ(s ⊙ dy), with s recomputed from the saved
 * logits (the stock gradient reads the saved output, which breaks second derivatives).
 */
export const softmaxGradConfig: tf.GradConfig = {
  kernelName: tf.Softmax,
  inputsToSave: ['logits'],
  gradFunc: (dy, saved, attrs) => {
    const [logits] = saved as [tf.Tensor];
    const { dim } = attrs as unknown as tf.SoftmaxAttrs;
    return {
      logits: () => {
        const s = tf.softmax(logits, dim);
        const dyTimesS = tf.mul(dy as tf.Tensor, s);
        return tf.sub(dyTimesS, tf.mul(tf.sum(dyTimesS, [dim], true), s));
      },
    };
  },
};
