import { InputError } from '@fisherlab/core';
import { prepareActiveBackend, type tf } from '@fisherlab/engine';

type Layer = tf.layers.Layer;

/** The layer that produces the model's (only) output, looking inside a nested model that does. */
function outputLayer(model: tf.LayersModel): Layer | undefined {
  const layer = model.outputs[0]?.sourceLayer as Layer | undefined;
  const nested = layer as unknown as tf.LayersModel | undefined;
  return nested && Array.isArray(nested.outputs) && nested.outputs.length === 1 ? outputLayer(nested) : layer;
}

/** True when the layer ends in a softmax: a Softmax layer, or any layer with activation 'softmax'. */
function appliesSoftmax(layer: Layer): boolean {
  const config = layer.getConfig() as { activation?: unknown };
  return layer.getClassName() === 'Softmax' || config.activation === 'softmax';
}

/**
 * Throws unless the model maps one input to logits of shape [batch, classes]. Every public
 * estimator, penalty and curvature probe takes logits and applies the softmax itself: a model that
 * already outputs probabilities would be normalised twice and give wrong numbers without any
 * error, so it is refused, whether the softmax is a layer's activation or a Softmax layer, and
 * whether it sits in the model or in a nested model that produces the output.
 */
export function assertLogitsModel(model: tf.LayersModel, where: string): void {
  const shape = model.outputs[0]?.shape;
  if (model.inputs.length !== 1 || model.outputs.length !== 1 || shape?.length !== 2) {
    throw new InputError({
      where,
      key: `model '${model.name}'`,
      expected: 'one input mapped to one output of shape [batch, classes] (logits)',
      found: `${model.inputs.length} input(s) and output(s) ${model.outputs.map((o) => `[${o.shape}]`).join(', ')}`,
      fix: 'wrap it so it maps one batch to one logits tensor (flatten the output or pick the logits head)',
    });
  }
  const last = outputLayer(model);
  if (last && appliesSoftmax(last)) {
    throw new InputError({
      where,
      key: `model '${model.name}'`,
      expected: 'logits (the Fisher code applies the softmax itself)',
      found: `probabilities (its output layer '${last.name}' applies a softmax)`,
      fix:
        "build the model without the final softmax (activation 'linear'), or pass the logits: " +
        'tf.model({ inputs: model.inputs, outputs: <the last layer before the softmax>.output })',
    });
  }
}

/**
 * What every public estimator, penalty and curvature probe runs first: refuses a model that does
 * not output logits, and makes sure the active backend has FisherLab's gradients (and, on wasm, its
 * kernels), so nothing depends on initBackend() having run. Cheap and idempotent.
 */
export function preflight(model: tf.LayersModel, where: string): void {
  assertLogitsModel(model, where);
  prepareActiveBackend();
}
