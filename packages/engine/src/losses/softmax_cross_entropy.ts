import { InputError } from '@fisherlab/core';
import * as tf from '@tensorflow/tfjs';
import { stopGradient } from '../secondorder/stop_gradient.js';

/**
 * log softmax(z) = z − m − log Σ_c exp(z_c − m), with m = max_c z_c held constant (stopGradient).
 * The value does not depend on m, so every derivative is exact; the ops used (Sub, Exp, Sum, Log)
 * all have second derivatives that tfjs gets right once FisherLab's gradients are installed.
 */
export function logSoftmaxExact(logits: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const shifted = tf.sub(logits, stopGradient(tf.max(logits, 1, true)));
    return tf.sub(shifted, tf.log(tf.sum(tf.exp(shifted), 1, true)));
  });
}

/**
 * Per-example softmax cross-entropy ℓ_i = −log softmax(z_i)[y_i] for logits [B, C] and int32 labels
 * [B], exact under second differentiation (tf.losses.softmaxCrossEntropy is not).
 */
export function softmaxCrossEntropyPerExample(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  if (logits.rank !== 2) {
    throw new Error(
      `softmaxCrossEntropyPerExample: logits must be [batch, classes], found shape [${logits.shape}]; ` +
        'flatten or reshape the model output to 2-D',
    );
  }
  const [batch, classes] = logits.shape;
  if (labels.rank !== 1 || labels.shape[0] !== batch || labels.dtype !== 'int32') {
    throw new Error(
      `softmaxCrossEntropyPerExample: labels must be int32 [${batch}] (one class index per logits row), ` +
        `found ${labels.dtype} [${labels.shape}]; pass class indices, not one-hot rows`,
    );
  }
  // A label outside [0, C) would select a one-hot row of zeros: a loss of 0 and no error. Reading
  // the B labels is one small transfer.
  const values = labels.dataSync();
  const bad = values.findIndex((y) => y < 0 || y >= classes);
  if (bad >= 0) {
    throw new InputError({
      where: 'softmaxCrossEntropy',
      key: 'labels',
      expected: `class indices in [0, ${classes}) (the logits' width)`,
      found: `${values[bad]} at index ${bad}`,
      fix: `map the labels to 0..${classes - 1}, or give the model as many outputs as there are classes`,
      index: bad,
    });
  }
  return tf.tidy(() => {
    const picked = tf.sum(tf.mul(logSoftmaxExact(logits), tf.oneHot(labels, classes)), 1);
    return tf.neg(picked) as tf.Tensor1D;
  });
}

/** Mean of softmaxCrossEntropyPerExample over the batch: a scalar loss. */
export function softmaxCrossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => tf.mean(softmaxCrossEntropyPerExample(logits, labels)) as tf.Scalar);
}
