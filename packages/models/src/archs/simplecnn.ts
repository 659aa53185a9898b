import type { tf } from '@fisherlab/engine';
import type { LayerBuilder } from '../layers.js';

export interface SimpleCnnOptions {
  /** Filters of the two conv layers. Default [32, 64]. */
  filters?: [number, number];
  /** Width of the hidden Linear layer. Default 128. */
  hiddenUnits?: number;
}

/**
 * FisherLab's SimpleCNN (small enough to train on Fashion-MNIST on two CPU cores):
 * conv 32 3x3 pad 1, ReLU, max-pool 2; conv 64 3x3 pad 1, ReLU, max-pool 2; flatten;
 * Linear 128, ReLU; Linear numClasses. 421,642 parameters on 28x28x1 with 10 classes.
 * `filters` and `hiddenUnits` narrow it (the demo uses [16, 32] and 64).
 */
export function simplecnn(
  x: tf.SymbolicTensor,
  b: LayerBuilder,
  numClasses: number,
  options: SimpleCnnOptions = {},
) {
  const [f1, f2] = options.filters ?? [32, 64];
  let h = b.maxPool(
    b.relu(b.conv2d(x, { name: 'conv1', filters: f1, kernelSize: 3, padding: 1, useBias: true })),
  );
  h = b.maxPool(
    b.relu(b.conv2d(h, { name: 'conv2', filters: f2, kernelSize: 3, padding: 1, useBias: true })),
  );
  h = b.relu(b.dense(b.flatten(h), 'fc1', options.hiddenUnits ?? 128));
  return b.dense(h, 'fc2', numClasses);
}
