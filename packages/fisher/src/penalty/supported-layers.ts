import { InputError } from '@fisherlab/core';
import type { tf } from '@fisherlab/engine';

/**
 * Layer classes the exact penalty (double backprop) is checked on: each one's first and second
 * derivatives match finite differences (packages/engine/src/gradients, the zoo's blocks, and this
 * package's penalty tests). The model zoo uses only these.
 */
export const EXACT_PENALTY_LAYERS: readonly string[] = [
  'InputLayer',
  'Dense',
  'Conv2D',
  'DepthwiseConv2D',
  'SeparableConv2D',
  'BatchNormalization',
  'MaxPooling2D',
  'AveragePooling2D',
  'GlobalAveragePooling2D',
  'ZeroPadding2D',
  'Flatten',
  'Reshape',
  'Activation',
  'ReLU',
  'Dropout',
  'Add',
  'Concatenate',
];

type Layer = tf.layers.Layer;

function layersOf(model: tf.LayersModel): Layer[] {
  return model.layers.flatMap((layer) => {
    const nested = layer as unknown as tf.LayersModel;
    return Array.isArray(nested.layers) && Array.isArray(nested.outputs) ? layersOf(nested) : [layer];
  });
}

/**
 * Refuses, before any step runs, a model with a layer whose second derivatives are not checked
 * (an LSTM, a custom layer, ...): the exact penalty differentiates through every layer twice, and a
 * missing or wrong second-order gradient would fail mid-training or give a wrong penalty gradient.
 */
export function assertExactPenaltySupported(model: tf.LayersModel, where: string): void {
  const unsupported = layersOf(model).find((l) => !EXACT_PENALTY_LAYERS.includes(l.getClassName()));
  if (!unsupported) return;
  throw new InputError({
    where,
    key: 'method',
    expected: `a model whose layers the exact penalty supports (${EXACT_PENALTY_LAYERS.join(', ')})`,
    found: `layer '${unsupported.name}' of class ${unsupported.getClassName()}`,
    fix:
      "use method 'finite-difference' (two extra first-order passes; check it on your model first with " +
      'checkFiniteDifferenceHvp), or build the model from the supported layers',
  });
}
