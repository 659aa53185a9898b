import * as tf from '@tensorflow/tfjs';
import { BATCH_NORM_TRAINING, type BatchNormTrainingAttrs } from '../kernels/native/BatchNormTraining.js';
import { NATIVE_BACKEND_NAME } from '../kernels/native/native-tf-backend.js';

/**
 * Training-mode batch norm over the last axis of x as one kernel: [y, mean, variance], mean and
 * variance the batch's per-channel statistics (biased variance, as tf.moments gives) and
 * y = (x − mean)·scale/√(variance + ε) + offset. Differentiable twice (first and second order
 * through y; first order through the statistics). The native backend only.
 */
export function batchNormTraining(
  x: tf.Tensor,
  scale: tf.Tensor1D,
  offset: tf.Tensor1D,
  varianceEpsilon: number,
): [tf.Tensor, tf.Tensor1D, tf.Tensor1D] {
  const attrs: BatchNormTrainingAttrs = { varianceEpsilon };
  return tf
    .engine()
    .runKernel(BATCH_NORM_TRAINING, { x, scale, offset }, attrs as unknown as tf.NamedAttrMap) as [
    tf.Tensor,
    tf.Tensor1D,
    tf.Tensor1D,
  ];
}

/** The fields of tfjs-layers' BatchNormalization this routing reads (public in its declaration). */
interface BatchNormLayer {
  axis: number;
  momentum: number;
  epsilon: number;
  gamma?: tf.LayerVariable;
  beta?: tf.LayerVariable;
  movingMean: tf.LayerVariable;
  movingVariance: tf.LayerVariable;
}

type LayerCall = (
  this: BatchNormLayer,
  inputs: tf.Tensor | tf.Tensor[],
  kwargs: tf.serialization.ConfigDict,
) => tf.Tensor;

let stockCall: LayerCall | undefined;

function fusable(layer: BatchNormLayer, input: tf.Tensor): boolean {
  const axis = layer.axis >= 0 ? layer.axis : layer.axis + input.rank;
  return (
    tf.getBackend() === NATIVE_BACKEND_NAME &&
    input.rank >= 2 &&
    axis === input.rank - 1 &&
    input.dtype === 'float32' &&
    input.size > 0 &&
    layer.gamma !== undefined &&
    layer.beta !== undefined
  );
}

/** tfjs-layers' moving-average update, as its BatchNormalization writes it: v ← v − (v − value)·(1 − momentum). */
function updateMovingAverage(variable: tf.LayerVariable, value: tf.Tensor, momentum: number): void {
  tf.tidy(() => {
    const current = variable.read();
    variable.write(tf.sub(current, tf.mul(tf.sub(current, value), 1 - momentum)));
  });
}

function fusedCall(
  this: BatchNormLayer,
  inputs: tf.Tensor | tf.Tensor[],
  kwargs: tf.serialization.ConfigDict,
): tf.Tensor {
  const input = Array.isArray(inputs) ? inputs[0] : inputs;
  const training = (kwargs?.['training'] ?? false) as boolean;
  if (
    !training ||
    input === undefined ||
    (Array.isArray(inputs) && inputs.length !== 1) ||
    !fusable(this, input)
  ) {
    return (stockCall as LayerCall).call(this, inputs, kwargs);
  }
  return tf.tidy(() => {
    const gamma = (this.gamma as tf.LayerVariable).read() as tf.Tensor1D;
    const beta = (this.beta as tf.LayerVariable).read() as tf.Tensor1D;
    const [y, mean, variance] = batchNormTraining(input, gamma, beta, this.epsilon);
    updateMovingAverage(this.movingMean, mean, this.momentum);
    updateMovingAverage(this.movingVariance, variance, this.momentum);
    return y;
  });
}

function batchNormalizationPrototype(): { call: LayerCall } {
  return Object.getPrototypeOf(tf.layers.batchNormalization({})) as { call: LayerCall };
}

/**
 * Routes every tfjs-layers BatchNormalization (the zoo's and any user model's) in training mode on
 * the native backend to {@link batchNormTraining}, when it normalizes over the last axis with a
 * scale and an offset; everything else (inference, other backends, other axes) runs tfjs's own
 * code. The running averages are updated as tfjs does. `enabled: false` puts tfjs's code back
 * everywhere (for comparisons against the unfused path). Registering the native backend routes.
 */
export function routeBatchNormalization(enabled = true): void {
  const prototype = batchNormalizationPrototype();
  if (enabled && stockCall === undefined) {
    stockCall = prototype.call;
    prototype.call = fusedCall;
  } else if (!enabled && stockCall !== undefined) {
    prototype.call = stockCall;
    stockCall = undefined;
  }
}

/** Whether BatchNormalization layers are routed to the fused kernels now. */
export function batchNormalizationRouted(): boolean {
  return stockCall !== undefined;
}
