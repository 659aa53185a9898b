import type { tf } from '@fisherlab/engine';
import type { LayerBuilder } from '../layers.js';

/**
 * FisherLab's SimpleCNN (small enough to train on Fashion-MNIST on two CPU cores):
 * conv 32 3x3 pad 1, ReLU, max-pool 2; conv 64 3x3 pad 1, ReLU, max-pool 2; flatten;
 * Linear 128, ReLU; Linear numClasses. 421,642 parameters on 28x28x1 with 10 classes.
 */
export function simplecnn(x: tf.SymbolicTensor, b: LayerBuilder, numClasses: number) {
  let h = b.maxPool(
    b.relu(b.conv2d(x, { name: 'conv1', filters: 32, kernelSize: 3, padding: 1, useBias: true })),
  );
  h = b.maxPool(
    b.relu(b.conv2d(h, { name: 'conv2', filters: 64, kernelSize: 3, padding: 1, useBias: true })),
  );
  h = b.relu(b.dense(b.flatten(h), 'fc1', 128));
  return b.dense(h, 'fc2', numClasses);
}
