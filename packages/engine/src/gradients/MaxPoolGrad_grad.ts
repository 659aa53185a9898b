import * as tf from '@tensorflow/tfjs';
import { poolWindows, windowOffsetView } from './pool_windows.js';

/**
 * dx = MaxPoolGrad(dy, x, y) = Aᵀ dy, where A selects each window's maximum (y = A x). It is linear
 * in dy and piecewise constant in x and y, so for an incoming ddx:
 *   ∂⟨ddx, dx⟩/∂dy = A ddx (ddx read at each window's argmax),  ∂/∂x = ∂/∂y = 0.
 * The argmax is the first maximum in row-major window order (strict >, as the cpu kernel scans),
 * found by comparing each window offset's view of x with y.
 */
export const maxPoolGradGradConfig: tf.GradConfig = {
  kernelName: tf.MaxPoolGrad,
  inputsToSave: ['dy', 'input', 'output'],
  gradFunc: (ddx, saved, attrs) => {
    const [dy, input, output] = saved as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
    const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as tf.MaxPoolGradAttrs;
    return {
      dy: () => {
        const w = poolWindows(input.shape, filterSize, strides, pad, dimRoundingMode);
        const paddedX = tf.pad(input, w.paddings, Number.NEGATIVE_INFINITY);
        const paddedDdx = tf.pad(ddx as tf.Tensor4D, w.paddings, 0);
        let picked: tf.Tensor = tf.zerosLike(dy);
        let found: tf.Tensor = tf.zerosLike(dy);
        for (let di = 0; di < w.filterHeight; di++) {
          for (let dj = 0; dj < w.filterWidth; dj++) {
            const isMax = tf.cast(tf.equal(windowOffsetView(paddedX, w, di, dj), output), 'float32');
            const firstMax = tf.mul(isMax, tf.sub(1, found));
            picked = tf.add(picked, tf.mul(firstMax, windowOffsetView(paddedDdx, w, di, dj)));
            found = tf.add(found, firstMax);
          }
        }
        return picked;
      },
      input: () => tf.zerosLike(input),
      output: () => tf.zerosLike(output),
    };
  },
};
