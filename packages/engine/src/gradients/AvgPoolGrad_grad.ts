import * as tf from '@tensorflow/tfjs';
import { poolWindows } from './pool_windows.js';

/**
 * dx = AvgPoolGrad(dy) = Aᵀ dy is linear in dy and independent of x, with A the kernels' fixed
 * window sum times 1/(filterH·filterW) over zero padding. So ∂⟨ddx, dx⟩/∂dy = A ddx: zero-pad ddx
 * as the pooling pads, then a 'valid' average pool (which divides every window by its full size,
 * matching the kernel, where a 'same' average pool would divide border windows by their valid count).
 */
export const avgPoolGradGradConfig: tf.GradConfig = {
  kernelName: tf.AvgPoolGrad,
  inputsToSave: ['dy', 'input'],
  gradFunc: (ddx, saved, attrs) => {
    const [dy, input] = saved as [tf.Tensor4D, tf.Tensor4D];
    const { filterSize, strides, pad } = attrs as unknown as tf.AvgPoolGradAttrs;
    return {
      dy: () => {
        const w = poolWindows(input.shape, filterSize, strides, pad);
        const padded = tf.pad(ddx as tf.Tensor4D, w.paddings, 0);
        const pooled = tf.avgPool(
          padded,
          [w.filterHeight, w.filterWidth],
          [w.strideHeight, w.strideWidth],
          'valid',
        );
        // 'valid' over the padded input can produce one extra row/column when padding was asymmetric.
        return tf.slice(pooled, [0, 0, 0, 0], dy.shape);
      },
      input: () => tf.zerosLike(input),
    };
  },
};
