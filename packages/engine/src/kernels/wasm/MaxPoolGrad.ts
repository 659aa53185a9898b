import * as tf from '@tensorflow/tfjs';
import { poolInfo } from './pool-info.js';
import { type BackendWasm, heapFloat32 } from './wasm-backend.js';

/**
 * MaxPoolGrad for the wasm backend: stock wasm starts its running max at +1e-38, so windows whose
 * values are all ≤ 0 route the gradient wrongly. dx[argmax of each window] += dy[window], the
 * argmax being the first maximum in row-major window order (padding never wins), as on cpu.
 */
function maxPoolGrad(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: tf.KernelBackend;
  attrs: tf.NamedAttrMap;
}): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const { dy, input } = args.inputs as { dy: tf.TensorInfo; input: tf.TensorInfo };
  const info = poolInfo(input, args.attrs);
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth } = info;
  const { strideHeight, strideWidth, filterHeight, filterWidth } = info;
  const { top, left } = info.padInfo;
  const dx = backend.makeOutput(input.shape, 'float32');
  const x = heapFloat32(backend, input);
  const grad = heapFloat32(backend, dx);
  const upstream = heapFloat32(backend, dy);
  grad.fill(0);
  const rowStride = inWidth * inChannels;
  let out = 0;
  for (let n = 0; n < batchSize; n++) {
    const image = n * inHeight * rowStride;
    for (let oh = 0; oh < outHeight; oh++) {
      const rowStart = Math.max(0, oh * strideHeight - top);
      const rowEnd = Math.min(inHeight, oh * strideHeight - top + filterHeight);
      for (let ow = 0; ow < outWidth; ow++, out += inChannels) {
        const colStart = Math.max(0, ow * strideWidth - left);
        const colEnd = Math.min(inWidth, ow * strideWidth - left + filterWidth);
        if (rowEnd <= rowStart || colEnd <= colStart) continue;
        const first = image + rowStart * rowStride + colStart * inChannels;
        for (let c = 0; c < inChannels; c++) {
          // First maximum in row-major window order wins, as in maxPoolPositions.
          let bestAt = first + c;
          let best = x[bestAt] as number;
          for (let row = rowStart; row < rowEnd; row++) {
            let at = image + row * rowStride + colStart * inChannels + c;
            for (let col = colStart; col < colEnd; col++, at += inChannels) {
              const value = x[at] as number;
              if (value > best) {
                best = value;
                bestAt = at;
              }
            }
          }
          grad[bestAt] = (grad[bestAt] as number) + (upstream[out + c] as number);
        }
      }
    }
  }
  return dx;
}

export const maxPoolGradConfig: tf.KernelConfig = {
  kernelName: tf.MaxPoolGrad,
  backendName: 'wasm',
  kernelFunc: maxPoolGrad as unknown as tf.KernelFunc,
};
