import { leanVariableGrads, tf } from '@fisherlab/engine';
import { preflight } from '../model-output.js';
import { type CurvatureLossName, curvatureLoss } from '../operators/losses.js';
import { trainableVariables } from './parameters.js';

/**
 * A batch with fixed targets: the loss L(θ) = (1/B) Σᵢ ℓ(f(xᵢ; θ), yᵢ) is a function of θ alone.
 * `labels`: int32 class indices [batch] (cross-entropy) or float targets [batch, outputs] (mse).
 */
export interface LabelledBatch {
  x: tf.Tensor;
  labels: tf.Tensor;
}

export interface HvpOptions {
  /** Run the model in training mode (BatchNorm batch statistics, dropout). Default false. */
  training?: boolean;
  /** The per-example loss ℓ: softmax cross-entropy (default) or mse, ½‖f − y‖². */
  loss?: CurvatureLossName;
}

/** The mean loss of the model on the batch, recorded on the tape when one is active. */
export function meanLoss(
  model: tf.LayersModel,
  batch: LabelledBatch,
  training: boolean,
  loss?: CurvatureLossName,
): tf.Scalar {
  const outputs = model.apply(batch.x, { training }) as tf.Tensor2D;
  return tf.div(curvatureLoss(loss, 'meanLoss').sum(outputs, batch.labels), outputs.shape[0]) as tf.Scalar;
}

/**
 * Exact Hessian-vector product H v, H = ∇²L(θ), for the model's trainable weights, by double
 * backprop: H v = ∇θ ⟨∇θ L(θ), v⟩ with v held constant. `v` has one tensor per trainable weight
 * (model.trainableWeights order); so does the result.
 */
export function hessianVectorProduct(
  model: tf.LayersModel,
  batch: LabelledBatch,
  v: tf.Tensor[],
  options: HvpOptions = {},
): tf.Tensor[] {
  preflight(model, 'hessianVectorProduct');
  const vars = trainableVariables(model);
  if (v.length !== vars.length) {
    throw new Error(
      `hessianVectorProduct: v has ${v.length} tensors but the model has ${vars.length} trainable weights; ` +
        'pass one tensor per model.trainableWeights entry, in that order',
    );
  }
  const training = options.training ?? false;
  return tf.tidy(() => {
    const gradDotV = (): tf.Scalar => {
      const { grads } = leanVariableGrads(() => meanLoss(model, batch, training, options.loss), vars);
      return tf.addN(
        vars.map((w, i) => tf.sum(tf.mul(grads[w.name] as tf.Tensor, v[i] as tf.Tensor))),
      ) as tf.Scalar;
    };
    const { grads } = leanVariableGrads(gradDotV, vars);
    return vars.map((w) => grads[w.name] as tf.Tensor);
  });
}

/** ∇θ L(θ) in model.trainableWeights order (first-order only). */
export function lossGradient(
  model: tf.LayersModel,
  batch: LabelledBatch,
  options: HvpOptions = {},
): tf.Tensor[] {
  preflight(model, 'lossGradient');
  const vars = trainableVariables(model);
  return tf.tidy(() => {
    const { grads } = leanVariableGrads(
      () => meanLoss(model, batch, options.training ?? false, options.loss),
      vars,
    );
    return vars.map((w) => grads[w.name] as tf.Tensor);
  });
}
