import * as tf from '@tensorflow/tfjs';
import { poolInfo } from './pool-info.js';
import { type BackendWasm, heapFloat32 } from './wasm-backend.js';

/**
 * AvgPoolGrad for the wasm backend. The forward AvgPool (cpu, wasm/XNNPACK, TensorFlow) divides
 * each window's sum by the number of pixels inside the image, but tfjs 4.22's AvgPoolGrad (cpu and
 * wasm) divides by the full window size, so windows that overlap 'same' or explicit padding get
 * wrong gradients. This is the adjoint of the forward op:
 *   dx[n, r, c, ch] = Σ_{windows (oh, ow) containing (r, c)} dy[n, oh, ow, ch] / |window ∩ image|
 */
function avgPoolGrad(args: {
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
  const grad = heapFloat32(backend, dx);
  const upstream = heapFloat32(backend, dy);
  grad.fill(0);
  let out = 0;
  for (let n = 0; n < batchSize; n++) {
    for (let oh = 0; oh < outHeight; oh++) {
      const rowStart = Math.max(0, oh * strideHeight - top);
      const rowEnd = Math.min(inHeight, oh * strideHeight - top + filterHeight);
      for (let ow = 0; ow < outWidth; ow++, out += inChannels) {
        const colStart = Math.max(0, ow * strideWidth - left);
        const colEnd = Math.min(inWidth, ow * strideWidth - left + filterWidth);
        const count = (rowEnd - rowStart) * (colEnd - colStart);
        if (count <= 0) continue;
        const scale = 1 / count;
        for (let row = rowStart; row < rowEnd; row++) {
          for (let col = colStart; col < colEnd; col++) {
            const base = ((n * inHeight + row) * inWidth + col) * inChannels;
            for (let c = 0; c < inChannels; c++) {
              grad[base + c] = (grad[base + c] as number) + (upstream[out + c] as number) * scale;
            }
          }
        }
      }
    }
  }
  return dx;
}

export const avgPoolGradConfig: tf.KernelConfig = {
  kernelName: tf.AvgPoolGrad,
  backendName: 'wasm',
  kernelFunc: avgPoolGrad as unknown as tf.KernelFunc,
};
