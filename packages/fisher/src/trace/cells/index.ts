import type { tf } from '@fisherlab/engine';
import { batchNormCell } from './batchnorm.js';
import { conv2dCell } from './conv2d.js';
import { denseCell } from './dense.js';
import type { PerExampleCell } from './types.js';

export type { PerExampleCell } from './types.js';

/**
 * Layer types whose per-example gradient norms come from one backward pass per batch. Any other
 * layer with trainable weights (DepthwiseConv2D, SeparableConv2D, Conv1D, LayerNormalization,
 * Embedding, RNNs, nested models, layers called more than once, ...) falls back to one backward
 * pass per example for its weights. A new layer type is one file here.
 */
export const PER_EXAMPLE_CELLS: readonly PerExampleCell[] = [denseCell, conv2dCell, batchNormCell];

/** The cell for this layer, or undefined when its type or configuration is not covered. */
export function findPerExampleCell(layer: tf.layers.Layer): PerExampleCell | undefined {
  const cell = PER_EXAMPLE_CELLS.find((c) => c.className === layer.getClassName());
  return cell && cell.unsupportedReason(layer) === undefined ? cell : undefined;
}
