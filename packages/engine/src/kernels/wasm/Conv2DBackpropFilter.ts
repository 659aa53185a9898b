import * as tf from '@tensorflow/tfjs';
import { type BackendWasm, disposeIntermediate, runWasmKernel } from './wasm-backend.js';

/**
 * Conv2DBackpropFilter for the wasm backend (tfjs 4.22's wasm has none), expressed through wasm's
 * own XNNPACK Conv2D so it runs at convolution speed.
 *
 * With x: [N, H, W, Cin], dy: [N, OH, OW, Cout], stride s and padding (pt, pl):
 *   dW[kh, kw, ci, co] = Σ_{n, oh, ow} x[n, oh·s + kh − pt, ow·s + kw − pl, ci] · dy[n, oh, ow, co]
 * which is a stride-1 convolution with dilation s of x' = xᵀ[Cin, H, W, N] ("batch" ci, "channels" n)
 * with the filter dy' = dyᵀ[OH, OW, N, Cout]; its output [Cin, kh, kw, Cout] transposed is dW.
 */
function conv2DBackpropFilter(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: tf.KernelBackend;
  attrs: tf.NamedAttrMap;
}): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } =
    args.attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  const convInfo = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    tf.backend_util.convertConv2DDataFormat(dataFormat),
  );
  if (convInfo.dataFormat !== 'channelsLast') {
    throw new Error(`Conv2DBackpropFilter on wasm supports dataFormat 'NHWC' only, got '${dataFormat}'`);
  }
  const { inHeight, inWidth, outHeight, outWidth, filterHeight, filterWidth, strideHeight, strideWidth } =
    convInfo;
  const { top, left } = convInfo.padInfo;
  // Rows of x past the last one any output reads are cut off (XNNPACK takes no negative padding);
  // otherwise the bottom/right padding makes the output exactly filterHeight x filterWidth.
  const usedHeight = Math.min(inHeight, (outHeight - 1) * strideHeight + filterHeight - top);
  const usedWidth = Math.min(inWidth, (outWidth - 1) * strideWidth + filterWidth - left);
  const bottom = filterHeight + (outHeight - 1) * strideHeight - usedHeight - top;
  const right = filterWidth + (outWidth - 1) * strideWidth - usedWidth - left;

  let xUsed = x;
  if (usedHeight < inHeight || usedWidth < inWidth) {
    xUsed = runWasmKernel(
      backend,
      tf.Slice,
      { x },
      {
        begin: [0, 0, 0, 0],
        size: [x.shape[0], usedHeight, usedWidth, x.shape[3]],
      },
    );
  }
  const xT = runWasmKernel(backend, tf.Transpose, { x: xUsed }, { perm: [3, 1, 2, 0] });
  const dyT = runWasmKernel(backend, tf.Transpose, { x: dy }, { perm: [1, 2, 0, 3] });
  const dWT = runWasmKernel(
    backend,
    tf.Conv2D,
    { x: xT, filter: dyT },
    {
      strides: [1, 1],
      pad: [
        [0, 0],
        [top, bottom],
        [left, right],
        [0, 0],
      ],
      dataFormat: 'NHWC',
      dilations: [strideHeight, strideWidth],
    },
  );
  const dW = runWasmKernel(backend, tf.Transpose, { x: dWT }, { perm: [1, 2, 0, 3] });
  disposeIntermediate(backend, xT, dyT, dWT);
  if (xUsed !== x) disposeIntermediate(backend, xUsed);
  return dW;
}

export const conv2DBackpropFilterConfig: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropFilter,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropFilter as unknown as tf.KernelFunc,
};
