import { leanVariableGrads, softmaxCrossEntropy, tf } from '@fisherlab/engine';

/** Fraction of rows whose arg-max logit equals the label (a scalar tensor). */
export function accuracyOf(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.cast(tf.equal(tf.argMax(logits, 1), labels), 'float32')) as tf.Scalar);
}

export interface StepResult {
  loss: number;
  accuracy: number;
  /** ‖ḡ‖² of the penalty (without α) when the step was penalized, else null. */
  penalty: number | null;
  /** Squared global norm of the gradient applied (to catch non-finite gradients). */
  gradNormSquared: number;
  grads: Record<string, tf.Tensor>;
}

/** The gradient of the mean cross-entropy of a batch, BatchNorm in training mode. */
export function plainStep(model: tf.LayersModel, x: tf.Tensor, y: tf.Tensor1D): StepResult {
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  let accuracy: tf.Scalar | undefined;
  const { value, grads } = leanVariableGrads(() => {
    const logits = model.apply(x, { training: true }) as tf.Tensor2D;
    accuracy = tf.keep(accuracyOf(logits, y));
    return softmaxCrossEntropy(logits, y);
  }, variables);
  const norm = tf.tidy(() => tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g)))));
  const [loss, acc, gradNormSquared] = tf.tidy(() => tf.stack([value, accuracy!, norm]).dataSync());
  tf.dispose([value, accuracy!, norm]);
  return { loss: loss!, accuracy: acc!, penalty: null, gradNormSquared: gradNormSquared!, grads };
}
