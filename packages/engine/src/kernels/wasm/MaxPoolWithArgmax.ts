import * as tf from '@tensorflow/tfjs';
import { maxPoolPositions } from './max-pool-positions.js';
import { poolInfo } from './pool-info.js';
import { type BackendWasm, heapFloat32, heapInt32 } from './wasm-backend.js';

/**
 * MaxPoolWithArgmax for the wasm backend (stock wasm picks wrong maxima). The index of each
 * maximum is flattened as ((n·H + row)·W + col)·C + c, or without the n term when
 * includeBatchInIndex is false, as in TensorFlow.
 */
function maxPoolWithArgmax(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: tf.KernelBackend;
  attrs: tf.NamedAttrMap;
}): tf.TensorInfo[] {
  const backend = args.backend as BackendWasm;
  const { x } = args.inputs as { x: tf.TensorInfo };
  const { includeBatchInIndex } = args.attrs as unknown as tf.MaxPoolWithArgmaxAttrs;
  const info = poolInfo(x, args.attrs);
  const values = backend.makeOutput(info.outShape, 'float32');
  const indexes = backend.makeOutput(info.outShape, 'int32');
  const input = heapFloat32(backend, x);
  const positions = maxPoolPositions(input, info);
  const outValues = heapFloat32(backend, values);
  const outIndexes = heapInt32(backend, indexes);
  const imageSize = info.inHeight * info.inWidth * info.inChannels;
  for (let i = 0; i < positions.length; i++) {
    const at = positions[i] as number;
    outValues[i] = at >= 0 ? (input[at] as number) : Number.NEGATIVE_INFINITY;
    outIndexes[i] = includeBatchInIndex ? at : at % imageSize;
  }
  return [values, indexes];
}

export const maxPoolWithArgmaxConfig: tf.KernelConfig = {
  kernelName: tf.MaxPoolWithArgmax,
  backendName: 'wasm',
  kernelFunc: maxPoolWithArgmax as unknown as tf.KernelFunc,
};
