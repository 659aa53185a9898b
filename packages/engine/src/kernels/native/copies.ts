import * as tf from '@tensorflow/tfjs';
import { copyBox } from '../wasm/Slice.js';
import { floatsOf, makeFloatOutput, runReplacedKernel } from './native-backend.js';
import { NATIVE_BACKEND_NAME } from './native-tf-backend.js';

/**
 * Slice and PadV2 on the native backend: copies in runs as long as the box allows (TypedArray
 * set/subarray, a memcpy per run). The cpu kernels compute an index per element for a slice that
 * is not one contiguous range and for every pad: ResNet-18's explicitly padded convolutions (a
 * PadV2 forward, a Slice in its gradient) took 3.5 of the 10 s of kernel time of its penalized
 * step at batch 16. Non-float32 tensors and empty outputs go to the cpu kernel.
 */

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs: tf.NamedAttrMap };

/** Copies a row-major `source` of `size` into the [begin, begin + size) box of `target` of `shape`. */
export function pasteBox(
  source: Float32Array,
  shape: number[],
  begin: number[],
  size: number[],
  target: Float32Array,
): void {
  const rank = shape.length;
  if (rank === 0) {
    target[0] = source[0] as number;
    return;
  }
  const strides = [...tf.util.computeStrides(shape), 1];
  let runAxis = rank - 1;
  let run = size[rank - 1] as number;
  while (runAxis > 0 && size[runAxis] === shape[runAxis]) {
    runAxis--;
    run *= size[runAxis] as number;
  }
  const outer = size.slice(0, runAxis);
  const index = new Array<number>(runAxis).fill(0);
  const runs = outer.reduce((product, s) => product * s, 1);
  let offset = begin.reduce((sum, b, axis) => sum + b * (strides[axis] as number), 0);
  for (let r = 0, at = 0; r < runs; r++, at += run) {
    target.set(source.subarray(at, at + run), offset);
    for (let axis = runAxis - 1; axis >= 0; axis--) {
      offset += strides[axis] as number;
      index[axis] = (index[axis] as number) + 1;
      if ((index[axis] as number) < (outer[axis] as number)) break;
      offset -= (outer[axis] as number) * (strides[axis] as number);
      index[axis] = 0;
    }
  }
}

function slice(args: KernelArgs): tf.TensorInfo {
  const { x } = args.inputs as { x: tf.TensorInfo };
  if (x.dtype !== 'float32') return runReplacedKernel(tf.Slice, args);
  const { begin, size } = args.attrs as unknown as tf.SliceAttrs;
  const [begin_, size_] = tf.slice_util.parseSliceParams(x as tf.Tensor, begin, size) as [number[], number[]];
  tf.slice_util.assertParamsValid(x as tf.Tensor, begin_, size_);
  if (tf.util.sizeFromShape(size_) === 0) return runReplacedKernel(tf.Slice, args);
  const out = makeFloatOutput(args.backend, size_);
  copyBox(floatsOf(args.backend, x), x.shape, begin_, size_, floatsOf(args.backend, out));
  return out;
}

function padV2(args: KernelArgs): tf.TensorInfo {
  const { x } = args.inputs as { x: tf.TensorInfo };
  const { paddings, constantValue } = args.attrs as unknown as tf.PadV2Attrs;
  if (x.dtype !== 'float32' || tf.util.sizeFromShape(x.shape) === 0) return runReplacedKernel(tf.PadV2, args);
  const outShape = x.shape.map((d, i) => (paddings[i]?.[0] ?? 0) + d + (paddings[i]?.[1] ?? 0));
  const out = makeFloatOutput(args.backend, outShape);
  const target = floatsOf(args.backend, out);
  target.fill(constantValue);
  pasteBox(
    floatsOf(args.backend, x),
    outShape,
    paddings.map((p) => p[0] ?? 0),
    x.shape,
    target,
  );
  return out;
}

export const NATIVE_COPY_KERNEL_CONFIGS: tf.KernelConfig[] = [
  { kernelName: tf.Slice, backendName: NATIVE_BACKEND_NAME, kernelFunc: slice as unknown as tf.KernelFunc },
  { kernelName: tf.PadV2, backendName: NATIVE_BACKEND_NAME, kernelFunc: padV2 as unknown as tf.KernelFunc },
];
