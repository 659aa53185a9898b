import * as tf from '@tensorflow/tfjs';
import { poolWindows } from './pool_windows.js';

/**
 * avgPool divides each window by the number of its pixels inside the image (n_o), but tfjs 4.22's
 * reference AvgPoolGrad kernel divides by the full window size, so the stock first derivative is
 * wrong at the borders with 'same' or explicit padding (and backends disagree: FisherLab's wasm
 * kernel implements the true adjoint). Here the kernel is only ever asked for 'valid' pooling, where
 * every backend agrees: with x̃ = x zero-padded as the pooling pads and f = filterH·filterW,
 *   y_o = (f / n_o) · validAvgPool(x̃)_o   ⇒   dx = unpad(AvgPoolGrad_valid(dy ⊙ f/n_o, x̃)).
 * f/n_o = 1 / validAvgPool(pad(1))_o.
 */
export const avgPoolGradConfig: tf.GradConfig = {
  kernelName: tf.AvgPool,
  inputsToSave: ['x'],
  gradFunc: (dy, saved, attrs) => {
    const [x] = saved as [tf.Tensor4D];
    const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as tf.AvgPoolAttrs;
    return {
      x: () => {
        const w = poolWindows(x.shape, filterSize, strides, pad, dimRoundingMode);
        const filter: [number, number] = [w.filterHeight, w.filterWidth];
        const stride: [number, number] = [w.strideHeight, w.strideWidth];
        const [, [top], [left]] = w.paddings as [unknown, [number, number], [number, number]];
        const padded = w.paddings.some(([a, b]) => a !== 0 || b !== 0);
        if (!padded) {
          return tf.engine().runKernel(tf.AvgPoolGrad, { dy: dy as tf.Tensor, input: x }, {
            filterSize: filter,
            strides: stride,
            pad: 'valid',
          } as unknown as tf.NamedAttrMap) as tf.Tensor4D;
        }
        const [batch, height, width, channels] = x.shape;
        const ones = tf.pad(tf.ones([1, height, width, 1]), w.paddings);
        const insideFraction = tf.slice(
          tf.avgPool(ones as tf.Tensor4D, filter, stride, 'valid'),
          [0, 0, 0, 0],
          [1, w.outHeight, w.outWidth, 1],
        );
        const paddedInput = tf.pad(x, w.paddings);
        // 'valid' over the padded input may need one more row/column than (dy) when padding is odd.
        const validOut = tf.avgPool(paddedInput, filter, stride, 'valid').shape;
        const scaledDy = tf.pad(tf.div(dy as tf.Tensor4D, insideFraction), [
          [0, 0],
          [0, (validOut[1] ?? 0) - w.outHeight],
          [0, (validOut[2] ?? 0) - w.outWidth],
          [0, 0],
        ]);
        const paddedDx = tf.engine().runKernel(tf.AvgPoolGrad, { dy: scaledDy, input: paddedInput }, {
          filterSize: filter,
          strides: stride,
          pad: 'valid',
        } as unknown as tf.NamedAttrMap) as tf.Tensor4D;
        return tf.slice(paddedDx, [0, top, left, 0], [batch, height, width, channels]);
      },
    };
  },
};
