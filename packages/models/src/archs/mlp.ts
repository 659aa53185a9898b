import type { tf } from '@fisherlab/engine';
import type { LayerBuilder } from '../layers.js';

export interface MlpOptions {
  /** Widths of the hidden ReLU layers, in order. Default [512, 256]. */
  hiddenUnits?: number[];
}

/** Flatten, then Linear+ReLU per hidden width, then Linear(numClasses). Layers 'fc1', 'fc2', …, 'out'. */
export function mlp(x: tf.SymbolicTensor, b: LayerBuilder, numClasses: number, options: MlpOptions) {
  // tfjs Flatten refuses inputs that are already [batch, features].
  let h = x.shape.length > 2 ? b.flatten(x) : x;
  (options.hiddenUnits ?? [512, 256]).forEach((units, i) => {
    h = b.relu(b.dense(h, `fc${i + 1}`, units));
  });
  return b.dense(h, 'out', numClasses);
}
