import { leanVariableGrads, tf } from '@fisherlab/engine';
import { preflight } from '../model-output.js';
import { summedCrossEntropy } from './loss.js';
import type { ModelWalker } from './walker.js';

/** Given labels, or a rule that picks them from the batch's softmax probabilities ([B·C], row-major). */
export type LabelChoice = Int32Array | ((probabilities: Float32Array, classes: number) => Int32Array);

/** Per-example squared gradient norms ‖∂ℓ(xᵢ, yᵢ)/∂θ‖² of one batch, split by layer. */
export interface PerExampleNorms {
  /** The labels the gradients were taken at. */
  labels: Int32Array;
  /** softmax of the logits, [B·C] row-major, from the same forward pass. */
  probabilities: Float32Array;
  classes: number;
  /** layer name → [B] squared norms over that layer's trainable weights. */
  perLayer: Map<string, Float64Array>;
  /** [B] squared norms over all trainable weights (the sum of perLayer). */
  total: Float64Array;
}

/**
 * Per-example squared gradient norms for one batch: Dense, Conv2D and BatchNormalization layers from
 * ONE backward pass (their cells, fed by the walker's saved inputs and pre-activation gradients);
 * every other trainable layer by one backward pass per example (perExampleSquaredGradNormsByLoop).
 */
export function perExampleSquaredGradNorms(
  walker: ModelWalker,
  x: tf.Tensor,
  labels: LabelChoice,
): PerExampleNorms {
  const batch = x.shape[0]!;
  const tapped = walker.tapped;
  let chosen: Int32Array | undefined;
  let probabilities: Float32Array | undefined;
  let classes = 0;
  const lossAt = (logits: tf.Tensor2D): tf.Scalar => {
    classes = logits.shape[1];
    probabilities = tf.tidy(() => tf.softmax(logits).dataSync() as Float32Array);
    chosen = typeof labels === 'function' ? labels(probabilities, classes) : labels;
    return summedCrossEntropy(logits, chosen);
  };

  const perLayer = new Map<string, Float64Array>();
  if (tapped.length === 0) {
    tf.tidy(() => {
      lossAt(walker.forward(x));
    });
  } else {
    const perturbations = tapped.map((t) => tf.zeros(t.preActivationShape(batch)));
    const cellInputs = new Map<string, tf.Tensor>();
    try {
      const norms = tf.tidy(() => {
        const grads = tf.grads((...zeros: tf.Tensor[]) => {
          const logits = walker.forward(x, {
            perturbations: new Map(tapped.map((t, i) => [t.name, zeros[i]!])),
            // A clone (shared data), so disposing it later never frees the caller's x.
            onCellInput: (name, cellInput) => cellInputs.set(name, tf.keep(tf.clone(cellInput))),
          });
          return lossAt(logits);
        })(perturbations);
        return tf.stack(
          tapped.map((t, i) => t.cell.squaredGradNorms(t.layer, cellInputs.get(t.name)!, grads[i]!)),
        );
      });
      const values = norms.dataSync();
      norms.dispose();
      tapped.forEach((t, i) => {
        perLayer.set(t.name, Float64Array.from(values.subarray(i * batch, (i + 1) * batch)));
      });
    } finally {
      for (const t of perturbations) t.dispose();
      for (const t of cellInputs.values()) t.dispose();
    }
  }

  const fallbackLayers = walker.untappedTrainableLayers;
  if (fallbackLayers.length > 0) {
    const looped = perExampleSquaredGradNormsByLoop(walker.model, x, chosen!, fallbackLayers);
    for (const [name, values] of looped) perLayer.set(name, values);
  }

  const total = new Float64Array(batch);
  for (const values of perLayer.values()) for (let i = 0; i < batch; i++) total[i]! += values[i]!;
  return { labels: chosen!, probabilities: probabilities!, classes, perLayer, total };
}

/**
 * The reference and the fallback: for each example, one backward pass of ℓ(xᵢ, yᵢ) through
 * `model.apply(x, {training: false})`, and the squared norm of the gradient of each layer's
 * trainable weights. `layers` defaults to every layer with trainable weights.
 */
export function perExampleSquaredGradNormsByLoop(
  model: tf.LayersModel,
  x: tf.Tensor,
  labels: Int32Array,
  layers: tf.layers.Layer[] = model.layers.filter((l) => l.trainableWeights.length > 0),
): Map<string, Float64Array> {
  preflight(model, 'perExampleSquaredGradNormsByLoop');
  const batch = x.shape[0]!;
  const groups = layers.map((layer) => ({
    name: layer.name,
    variables: layer.trainableWeights.map((w) => w.read() as tf.Variable),
  }));
  const variables = groups.flatMap((g) => g.variables);
  const result = new Map(groups.map((g) => [g.name, new Float64Array(batch)]));
  for (let i = 0; i < batch; i++) {
    const norms = tf.tidy(() => {
      const xi = tf.slice(x, i, 1);
      const { value, grads } = leanVariableGrads(
        () =>
          summedCrossEntropy(model.apply(xi, { training: false }) as tf.Tensor2D, labels.subarray(i, i + 1)),
        variables,
      );
      value.dispose();
      return tf
        .stack(groups.map((g) => tf.addN(g.variables.map((v) => tf.sum(tf.square(grads[v.name]!))))))
        .dataSync();
    });
    groups.forEach((g, k) => {
      result.get(g.name)![i] = norms[k]!;
    });
  }
  return result;
}
