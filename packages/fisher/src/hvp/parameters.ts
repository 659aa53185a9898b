import { tf } from '@fisherlab/engine';

/** The tf.Variables behind a model's trainable weights, in model.trainableWeights order. */
export function trainableVariables(model: tf.LayersModel): tf.Variable[] {
  return model.trainableWeights.map((w) => w.read() as tf.Variable);
}

function layersOf(container: tf.LayersModel): tf.layers.Layer[] {
  return container.layers.flatMap((layer) =>
    layer instanceof tf.LayersModel ? [layer, ...layersOf(layer)] : [layer],
  );
}

/**
 * Names of the variables that belong to BatchNormalization layers (gamma, beta and the moving
 * statistics), found by layer class so custom names cannot hide them.
 */
export function batchNormVariableNames(model: tf.LayersModel): Set<string> {
  const names = new Set<string>();
  for (const layer of layersOf(model)) {
    if (layer.getClassName() !== 'BatchNormalization') continue;
    for (const w of layer.weights) names.add((w.read() as tf.Variable).name);
  }
  return names;
}

/** True when the model has a BatchNormalization layer anywhere (nested models included). */
export function hasBatchNorm(model: tf.LayersModel): boolean {
  return layersOf(model).some((layer) => layer.getClassName() === 'BatchNormalization');
}

/** True when the model has a Dropout-family layer (its masks differ between forward passes). */
export function hasDropout(model: tf.LayersModel): boolean {
  return layersOf(model).some((layer) => /Dropout/.test(layer.getClassName()));
}

/**
 * Runs `body` with every trainable weight moved to θ + step·direction, then restores θ exactly, as
 * well as the non-trainable state (BatchNorm moving statistics, which a training-mode forward pass
 * updates).
 */
export function withWeightsShifted<T>(
  model: tf.LayersModel,
  direction: tf.Tensor[],
  step: number,
  body: () => T,
): T {
  const vars = trainableVariables(model);
  const saved = vars.map((v) => tf.clone(v));
  try {
    vars.forEach((v, i) => {
      // assign() shares the new tensor's data; the tensor itself must still be disposed.
      const shifted = tf.tidy(() => tf.add(saved[i] as tf.Tensor, tf.mul(direction[i] as tf.Tensor, step)));
      v.assign(shifted);
      shifted.dispose();
    });
    return preservingState(model, body);
  } finally {
    vars.forEach((v, i) => {
      v.assign(saved[i] as tf.Tensor);
    });
    tf.dispose(saved);
  }
}

/** Runs `body`, then restores the model's non-trainable weights (BatchNorm moving statistics). */
export function preservingState<T>(model: tf.LayersModel, body: () => T): T {
  const state = model.nonTrainableWeights.map((w) => w.read() as tf.Variable);
  const saved = state.map((v) => tf.clone(v));
  try {
    return body();
  } finally {
    state.forEach((v, i) => {
      v.assign(saved[i] as tf.Tensor);
    });
    tf.dispose(saved);
  }
}

/** ⟨a, b⟩ summed over a list of same-shaped tensors, as a number. */
export function dotAll(a: tf.Tensor[], b: tf.Tensor[]): number {
  return tf.tidy(() => tf.addN(a.map((t, i) => tf.sum(tf.mul(t, b[i] as tf.Tensor)))).dataSync()[0] ?? 0);
}

/** Seeded Rademacher (±1) tensors shaped like the model's trainable weights. */
export function rademacherLike(model: tf.LayersModel, seed: number): tf.Tensor[] {
  return trainableVariables(model).map((v, i) =>
    tf.tidy(() =>
      tf.sub(
        tf.mul(
          tf.cast(tf.greater(tf.randomUniform(v.shape, 0, 1, 'float32', seed * 7919 + i), 0.5), 'float32'),
          2,
        ),
        1,
      ),
    ),
  );
}
