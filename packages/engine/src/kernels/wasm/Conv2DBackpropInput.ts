import * as tf from '@tensorflow/tfjs';
import { type BackendWasm, disposeIntermediate, heapFloat32, runWasmKernel } from './wasm-backend.js';

/**
 * Conv2DBackpropInput for the wasm backend, expressed through wasm's own XNNPACK Conv2D (the stock
 * kernel is a scalar loop, several times slower).
 *
 * With dy: [N, OH, OW, Cout], W: [kh, kw, Cin, Cout], stride s and padding (pt, pl):
 *   dx[n, i, j, ci] = Σ_{oh, ow, kh, kw, co} dy[n, oh, ow, co] · W[kh, kw, ci, co],  i = oh·s + kh − pt
 * Spread dy onto a grid with s − 1 zeros between entries (D[oh·s] = dy[oh]); then
 *   dx = valid correlation of D, padded by kh − 1 − pt on top, with the flipped filter
 *        W'[a, b, co, ci] = W[kh − 1 − a, kw − 1 − b, ci, co].
 * For stride 1 XNNPACK pads D itself; otherwise D is written out (zeros included).
 */
function conv2DBackpropInput(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: tf.KernelBackend;
  attrs: tf.NamedAttrMap;
}): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } =
    args.attrs as unknown as tf.Conv2DBackpropInputAttrs;
  const convInfo = tf.backend_util.computeConv2DInfo(
    inputShape,
    filter.shape as [number, number, number, number],
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    tf.backend_util.convertConv2DDataFormat(dataFormat),
  );
  if (convInfo.dataFormat !== 'channelsLast') {
    throw new Error(`Conv2DBackpropInput on wasm supports dataFormat 'NHWC' only, got '${dataFormat}'`);
  }
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels } = convInfo;
  const { filterHeight, filterWidth, strideHeight, strideWidth } = convInfo;
  // Padding of the zero-spread dy so the valid correlation yields exactly inHeight x inWidth rows.
  const padTop = filterHeight - 1 - convInfo.padInfo.top;
  const padLeft = filterWidth - 1 - convInfo.padInfo.left;
  const padBottom = inHeight + filterHeight - 1 - padTop - ((outHeight - 1) * strideHeight + 1);
  const padRight = inWidth + filterWidth - 1 - padLeft - ((outWidth - 1) * strideWidth + 1);

  const flipped = flipFilter(backend, filter, filterHeight, filterWidth, inChannels, outChannels);
  const valid = [
    [0, 0],
    [0, 0],
    [0, 0],
    [0, 0],
  ];
  let dx: tf.TensorInfo;
  if (strideHeight === 1 && strideWidth === 1 && Math.min(padTop, padLeft, padBottom, padRight) >= 0) {
    const pads = [
      [0, 0],
      [padTop, padBottom],
      [padLeft, padRight],
      [0, 0],
    ];
    dx = runWasmKernel(backend, tf.Conv2D, { x: dy, filter: flipped }, convAttrs(pads));
  } else {
    const spreadHeight = inHeight + filterHeight - 1;
    const spreadWidth = inWidth + filterWidth - 1;
    const spread = backend.makeOutput([batchSize, spreadHeight, spreadWidth, outChannels], 'float32');
    const target = heapFloat32(backend, spread);
    const source = heapFloat32(backend, dy);
    target.fill(0);
    for (let n = 0; n < batchSize; n++) {
      for (let oh = 0; oh < outHeight; oh++) {
        const row = oh * strideHeight + padTop;
        if (row < 0 || row >= spreadHeight) continue;
        for (let ow = 0; ow < outWidth; ow++) {
          const col = ow * strideWidth + padLeft;
          if (col < 0 || col >= spreadWidth) continue;
          const from = ((n * outHeight + oh) * outWidth + ow) * outChannels;
          const to = ((n * spreadHeight + row) * spreadWidth + col) * outChannels;
          target.set(source.subarray(from, from + outChannels), to);
        }
      }
    }
    dx = runWasmKernel(backend, tf.Conv2D, { x: spread, filter: flipped }, convAttrs(valid));
    disposeIntermediate(backend, spread);
  }
  disposeIntermediate(backend, flipped);
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
