import * as tf from '@tensorflow/tfjs';
import { backpropFilterInfo } from './conv-info.js';
import { type BackendWasm, disposeIntermediate, heapFloat32, runWasmKernel } from './wasm-backend.js';

/**
 * Conv2DBackpropFilter for the wasm backend (tfjs 4.22's wasm has none): an im2col gather in JS
 * followed by one XNNPACK matrix product.
 *
 * With x: [N, H, W, Cin], dy: [N, OH, OW, Cout], stride s and padding (pt, pl):
 *   dW[kh, kw, ci, co] = Σ_{n, oh, ow} x[n, oh·s + kh − pt, ow·s + kw − pl, ci] · dy[n, oh, ow, co]
 *                      = (colsᵀ · dy₂)[(kh, kw, ci), co]
 * where colsᵀ[(kh, kw, ci), (n, oh, ow)] is that x entry (0 in the padding) and dy₂ is dy as a
 * [N·OH·OW, Cout] matrix. Measured against the alternative of a dilated wasm Conv2D of transposed x
 * and dy (CPU time, batch 128, fresh tensors each call): 1.35x faster on 32x32x3→32, 1.2x on
 * 16x16x32→64 and 8x8x128→256, 1.1x on a stride-2 32x32x64→128 layer. Swapping the product's
 * operands when there are fewer taps than output channels was measured too, and was slower.
 */
function conv2DBackpropFilter(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: tf.KernelBackend;
  attrs: tf.NamedAttrMap;
}): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const { dataFormat, filterShape } = args.attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  const info = backpropFilterInfo(x, args.attrs);
  if (info.dataFormat !== 'channelsLast') {
    throw new Error(`Conv2DBackpropFilter on wasm supports dataFormat 'NHWC' only, got '${dataFormat}'`);
  }
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels } = info;
  const { filterHeight, filterWidth, strideHeight, strideWidth } = info;
  const { top, left } = info.padInfo;
  const patches = batchSize * outHeight * outWidth;
  const taps = filterHeight * filterWidth * inChannels;

  // x as [Cin, N, H, W], so each row of colsᵀ is gathered from one contiguous image row.
  const xT = runWasmKernel(backend, tf.Transpose, { x }, { perm: [3, 0, 1, 2] });
  const colsT = backend.makeOutput([1, taps, patches], 'float32');
  const cols = heapFloat32(backend, colsT);
  const input = heapFloat32(backend, xT);
  for (let kh = 0; kh < filterHeight; kh++) {
    for (let kw = 0; kw < filterWidth; kw++) {
      // Output columns whose tap (kh, kw) lands inside the image (the rest read padding).
      const owStart = Math.max(0, Math.ceil((left - kw) / strideWidth));
      const owEnd = Math.min(outWidth, Math.floor((inWidth - 1 - kw + left) / strideWidth) + 1);
      for (let ci = 0; ci < inChannels; ci++) {
        let at = ((kh * filterWidth + kw) * inChannels + ci) * patches;
        for (let n = 0; n < batchSize; n++) {
          for (let oh = 0; oh < outHeight; oh++, at += outWidth) {
            const row = oh * strideHeight + kh - top;
            if (row < 0 || row >= inHeight || owEnd <= owStart) {
              for (let ow = 0; ow < outWidth; ow++) cols[at + ow] = 0;
              continue;
            }
            for (let ow = 0; ow < owStart; ow++) cols[at + ow] = 0;
            const rowStart = ((ci * batchSize + n) * inHeight + row) * inWidth + kw - left;
            for (let ow = owStart; ow < owEnd; ow++)
              cols[at + ow] = input[rowStart + ow * strideWidth] as number;
            for (let ow = owEnd; ow < outWidth; ow++) cols[at + ow] = 0;
          }
        }
      }
    }
  }
  disposeIntermediate(backend, xT);
  const dy2 = { dataId: dy.dataId, shape: [1, patches, outChannels], dtype: dy.dtype };
  const product = runWasmKernel(
    backend,
    tf.BatchMatMul,
    { a: colsT, b: dy2 },
    { transposeA: false, transposeB: false },
  );
  disposeIntermediate(backend, colsT);
  return { dataId: product.dataId, shape: [...filterShape], dtype: 'float32' };
}

export const conv2DBackpropFilterConfig: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropFilter,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropFilter as unknown as tf.KernelFunc,
};
