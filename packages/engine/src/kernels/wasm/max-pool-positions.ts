import type * as tf from '@tensorflow/tfjs';

/**
 * For every max-pool output [n, oh, ow, c], the flat NHWC index into x of the window's largest
 * value; windows are clipped to the image (padding never wins) and the first maximum in row-major
 * window order wins ties, as in tfjs's cpu backend and TensorFlow. The running maximum starts at
 * −∞, so windows whose values are all ≤ 0 are handled (stock wasm starts at +1e-38).
 */
export function maxPoolPositions(x: Float32Array, info: tf.backend_util.Conv2DInfo): Int32Array {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth } = info;
  const { strideHeight, strideWidth, filterHeight, filterWidth } = info;
  const { top, left } = info.padInfo;
  const positions = new Int32Array(batchSize * outHeight * outWidth * inChannels);
  const best = new Float32Array(inChannels);
  const bestAt = new Int32Array(inChannels);
  let out = 0;
  for (let n = 0; n < batchSize; n++) {
    for (let oh = 0; oh < outHeight; oh++) {
      const rowStart = Math.max(0, oh * strideHeight - top);
      const rowEnd = Math.min(inHeight, oh * strideHeight - top + filterHeight);
      for (let ow = 0; ow < outWidth; ow++) {
        const colStart = Math.max(0, ow * strideWidth - left);
        const colEnd = Math.min(inWidth, ow * strideWidth - left + filterWidth);
        best.fill(Number.NEGATIVE_INFINITY);
        bestAt.fill(-1);
        for (let row = rowStart; row < rowEnd; row++) {
          for (let col = colStart; col < colEnd; col++) {
            const base = ((n * inHeight + row) * inWidth + col) * inChannels;
            for (let c = 0; c < inChannels; c++) {
              const value = x[base + c] as number;
              if (value > (best[c] as number) || bestAt[c] === -1) {
                best[c] = value;
                bestAt[c] = base + c;
              }
            }
          }
        }
        positions.set(bestAt, out);
        out += inChannels;
      }
    }
  }
  return positions;
}
