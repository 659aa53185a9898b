import type { tf } from '@fisherlab/engine';

/** The layer's weight whose name ends in `/<suffix>` (tfjs names them `<layer>/kernel`, ...), if any. */
export function layerWeight(layer: tf.layers.Layer, suffix: string): tf.Tensor | undefined {
  const weight = layer.weights.find(
    (w) => w.originalName.endsWith(`/${suffix}`) || w.originalName === suffix,
  );
  return weight?.read();
}

/** Same as layerWeight, but only when the weight is trainable (frozen weights do not enter Tr(F)). */
export function isTrainableWeight(layer: tf.layers.Layer, suffix: string): boolean {
  return layer.trainableWeights.some(
    (w) => w.originalName.endsWith(`/${suffix}`) || w.originalName === suffix,
  );
}

/** The activation object tfjs Dense and Conv2D layers keep (a private field in tfjs-layers). */
export function applyLayerActivation(layer: tf.layers.Layer, preActivation: tf.Tensor): tf.Tensor {
  const activation = (layer as unknown as { activation?: { apply(x: tf.Tensor): tf.Tensor } }).activation;
  if (!activation) {
    throw new Error(
      `layer '${layer.name}' (${layer.getClassName()}): expected an activation object, found none`,
    );
  }
  return activation.apply(preActivation);
}
