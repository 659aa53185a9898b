import * as tf from '@tensorflow/tfjs';
import { leadingAxesReduction } from './leading-axes-reduction.js';

/** Sum on wasm: leading-axes reductions (bias gradients) as one XNNPACK product. */
export const sumConfig: tf.KernelConfig = leadingAxesReduction(tf.Sum);
