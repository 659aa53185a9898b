import * as tf from '@tensorflow/tfjs';
import { maxPoolSelect } from '../kernels/native/MaxPoolSelect.js';
import { padForWindows, poolWindows, windowOffsetView, windowsAreDisjoint } from './pool_windows.js';

/**
 * dx = MaxPoolGrad(dy, x, y) = Aᵀ dy, where A selects each window's maximum (y = A x). It is linear
 * in dy and piecewise constant in x and y, so for an incoming ddx:
 *   ∂⟨ddx, dx⟩/∂dy = A ddx (ddx read at each window's argmax),  ∂/∂x = ∂/∂y = 0.
 * Disjoint windows (stride ≥ filter, the zoo's 2x2/2): the mask M = Aᵀ·1 = MaxPoolGrad(1, x, y)
 * marks each window's argmax with the backend's own tie-breaking, and A ddx = window-sum(M ⊙ ddx),
 * a 'valid' average pool of the zero-padded product times the window size: three kernels.
 * Overlapping windows: the first maximum in row-major window order (strict >, as the cpu kernel
 * scans), found by comparing each window offset's view of x with y. On the native tier one kernel
 * computes A ddx for any windows (MaxPoolSelect).
 */
export const maxPoolGradGradConfig: tf.GradConfig = {
  kernelName: tf.MaxPoolGrad,
  inputsToSave: ['dy', 'input', 'output'],
  gradFunc: (ddx, saved, attrs) => {
    const [dy, input, output] = saved as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
    const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as tf.MaxPoolGradAttrs;
    return {
      dy: () => {
        // The native tier does it in one pass (same argmax rule as its MaxPoolGrad).
        const native = maxPoolSelect(ddx as tf.Tensor4D, input, {
          filterSize,
          strides,
          pad,
          dimRoundingMode,
        });
        if (native) return native;
        const w = poolWindows(input.shape, filterSize, strides, pad, dimRoundingMode);
        return windowsAreDisjoint(w)
          ? selectDisjoint(
              ddx as tf.Tensor4D,
              dy,
              input,
              output,
              w,
              filterSize,
              strides,
              pad,
              dimRoundingMode,
            )
          : selectOverlapping(ddx as tf.Tensor4D, dy, input, output, w);
      },
      input: () => tf.zerosLike(input),
      output: () => tf.zerosLike(output),
    };
  },
};

function selectDisjoint(
  ddx: tf.Tensor4D,
  dy: tf.Tensor4D,
  input: tf.Tensor4D,
  output: tf.Tensor4D,
  w: ReturnType<typeof poolWindows>,
  filterSize: tf.MaxPoolGradAttrs['filterSize'],
  strides: tf.MaxPoolGradAttrs['strides'],
  pad: tf.MaxPoolGradAttrs['pad'],
  dimRoundingMode: tf.MaxPoolGradAttrs['dimRoundingMode'],
): tf.Tensor4D {
  const argmaxMask = tf.engine().runKernel(tf.MaxPoolGrad, { dy: tf.onesLike(dy), input, output }, {
    filterSize,
    strides,
    pad,
    dimRoundingMode,
  } as unknown as tf.NamedAttrMap) as tf.Tensor4D;
  const picked = padForWindows(tf.mul(argmaxMask, ddx), w, 0);
  const windowMean = tf.avgPool(
    picked,
    [w.filterHeight, w.filterWidth],
    [w.strideHeight, w.strideWidth],
    'valid',
  );
  const windowSum = tf.mul(windowMean, w.filterHeight * w.filterWidth);
  // The slice only drops the extra windows of a padded edge; when there are none it would be a copy.
  if (tf.util.arraysEqual(windowSum.shape, dy.shape)) return windowSum as tf.Tensor4D;
  return tf.slice(windowSum, [0, 0, 0, 0], dy.shape) as tf.Tensor4D;
}

function selectOverlapping(
  ddx: tf.Tensor4D,
  dy: tf.Tensor4D,
  input: tf.Tensor4D,
  output: tf.Tensor4D,
  w: ReturnType<typeof poolWindows>,
): tf.Tensor4D {
  const paddedX = padForWindows(input, w, Number.NEGATIVE_INFINITY);
  const paddedDdx = padForWindows(ddx, w, 0);
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
  return picked as tf.Tensor4D;
}
