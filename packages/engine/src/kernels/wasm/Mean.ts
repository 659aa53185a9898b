import * as tf from '@tensorflow/tfjs';
import { leadingAxesReduction } from './leading-axes-reduction.js';

/** Mean on wasm: leading-axes reductions (batch-norm statistics) as one XNNPACK product. */
export const meanConfig: tf.KernelConfig = leadingAxesReduction(tf.Mean);
