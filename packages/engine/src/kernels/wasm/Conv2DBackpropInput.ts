import * as tf from '@tensorflow/tfjs';
import { backpropInputInfo } from './conv-info.js';
import { type BackendWasm, disposeIntermediate, heapFloat32, runWasmKernel } from './wasm-backend.js';

/**
 * Conv2DBackpropInput for the wasm backend, expressed through wasm's own XNNPACK Conv2D (the stock
 * kernel is a scalar loop, several times slower).
 *
 * With dy: [N, OH, OW, Cout], W: [kh, kw, Cin, Cout], stride s and padding (pt, pl):
 *   dx[n, i, j, ci] = Σ_{oh, ow, kh, kw, co} dy[n, oh, ow, co] · W[kh, kw, ci, co],  i = oh·s + kh − pt
 * Stride 1: dx is a 'full' correlation of dy with the flipped filter
 *   W'[a, b, co, ci] = W[kh − 1 − a, kw − 1 − b, ci, co], padded by kh − 1 − pt on top,
 * one XNNPACK Conv2D. Larger strides (col2im): cols = dy₂ · W₂ᵀ, with dy₂ = dy as [N·OH·OW, Cout]
 * and W₂ = W as [kh·kw·Cin, Cout], then each cols row is added into the dx window it came from.
 * Measured for 3x3 stride 2 (CPU time, batch 128, 32x32x64 -> 128): col2im 2.1x faster than the
 * zero-spread dy convolution that wastes s² of its work on zeros.
 */
function conv2DBackpropInput(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: tf.KernelBackend;
  attrs: tf.NamedAttrMap;
}): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const { dataFormat, inputShape } = args.attrs as unknown as tf.Conv2DBackpropInputAttrs;
  const convInfo = backpropInputInfo(filter, args.attrs);
  if (convInfo.dataFormat !== 'channelsLast') {
    throw new Error(`Conv2DBackpropInput on wasm supports dataFormat 'NHWC' only, got '${dataFormat}'`);
  }
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels } = convInfo;
  const { filterHeight, filterWidth, strideHeight, strideWidth } = convInfo;
  // Padding of dy (stride 1) so the correlation with the flipped filter yields inHeight x inWidth rows.
  const padTop = filterHeight - 1 - convInfo.padInfo.top;
  const padLeft = filterWidth - 1 - convInfo.padInfo.left;
  const padBottom = inHeight + filterHeight - 1 - padTop - ((outHeight - 1) * strideHeight + 1);
  const padRight = inWidth + filterWidth - 1 - padLeft - ((outWidth - 1) * strideWidth + 1);

  if (strideHeight === 1 && strideWidth === 1 && Math.min(padTop, padLeft, padBottom, padRight) >= 0) {
    const flipped = flipFilter(backend, filter, filterHeight, filterWidth, inChannels, outChannels);
    const pads = [
      [0, 0],
      [padTop, padBottom],
      [padLeft, padRight],
      [0, 0],
    ];
    const dx = runWasmKernel(backend, tf.Conv2D, { x: dy, filter: flipped }, convAttrs(pads));
    disposeIntermediate(backend, flipped);
    return dx;
  }

  const patches = batchSize * outHeight * outWidth;
  const taps = filterHeight * filterWidth * inChannels;
  const filterT = runWasmKernel(
    backend,
    tf.Transpose,
    { x: { dataId: filter.dataId, shape: [taps, outChannels], dtype: filter.dtype } },
    { perm: [1, 0] },
  );
  const cols = runWasmKernel(
    backend,
    tf.BatchMatMul,
    {
      a: { dataId: dy.dataId, shape: [1, patches, outChannels], dtype: dy.dtype },
      b: { dataId: filterT.dataId, shape: [1, outChannels, taps], dtype: filterT.dtype },
    },
    { transposeA: false, transposeB: false },
  );
  disposeIntermediate(backend, filterT);
  const dx = backend.makeOutput(inputShape, 'float32');
  const grad = heapFloat32(backend, dx);
  const source = heapFloat32(backend, cols);
  grad.fill(0);
  const { top, left } = convInfo.padInfo;
  let at = 0;
  for (let n = 0; n < batchSize; n++) {
    for (let oh = 0; oh < outHeight; oh++) {
      for (let ow = 0; ow < outWidth; ow++, at += taps) {
        for (let kh = 0; kh < filterHeight; kh++) {
          const row = oh * strideHeight + kh - top;
          if (row < 0 || row >= inHeight) continue;
          for (let kw = 0; kw < filterWidth; kw++) {
            const col = ow * strideWidth + kw - left;
            if (col < 0 || col >= inWidth) continue;
            const to = ((n * inHeight + row) * inWidth + col) * inChannels;
            const from = at + (kh * filterWidth + kw) * inChannels;
            for (let ci = 0; ci < inChannels; ci++) {
              grad[to + ci] = (grad[to + ci] as number) + (source[from + ci] as number);
            }
          }
        }
      }
    }
  }
  disposeIntermediate(backend, cols);
  return dx;
}

const convAttrs = (pads: number[][]) => ({
  strides: [1, 1],
  pad: pads,
  dataFormat: 'NHWC',
  dilations: [1, 1],
});

/** W[kh, kw, ci, co] -> W'[kh − 1 − a, kw − 1 − b, co, ci]: rotated 180° with channels swapped. */
function flipFilter(
  backend: BackendWasm,
  filter: tf.TensorInfo,
  height: number,
  width: number,
  inChannels: number,
  outChannels: number,
): tf.TensorInfo {
  const flipped = backend.makeOutput([height, width, outChannels, inChannels], 'float32');
  const target = heapFloat32(backend, flipped);
  const source = heapFloat32(backend, filter);
  for (let a = 0; a < height; a++) {
    for (let b = 0; b < width; b++) {
      const from = ((height - 1 - a) * width + (width - 1 - b)) * inChannels * outChannels;
      const to = (a * width + b) * outChannels * inChannels;
      for (let ci = 0; ci < inChannels; ci++) {
        for (let co = 0; co < outChannels; co++) {
          target[to + co * inChannels + ci] = source[from + ci * outChannels + co] as number;
        }
      }
    }
  }
  return flipped;
}

export const conv2DBackpropInputConfig: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropInput,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropInput as unknown as tf.KernelFunc,
};
