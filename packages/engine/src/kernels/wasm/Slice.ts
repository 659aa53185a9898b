import * as tf from '@tensorflow/tfjs';
import { type BackendWasm, stockWasmKernel } from './wasm-backend.js';

/**
 * Slice, and the kernels built on it (SplitV, Unpack, the contiguous cases of StridedSlice),
 * copying only the sliced elements. Stock wasm reads the whole input through readSync, a copy of
 * all of it off the heap, on every call: slicing 128 images out of 1,024 copied all 1,024
 * (44 ms per batch in Tr(F)'s loop over a dataset, on SimpleCNN's 32x32x3 inputs), and SplitV
 * and Unpack copied the whole input once per piece. Here the copy runs between two views of the
 * heap, in runs as long as the slice allows (the whole slice when it is contiguous).
 */

/** Copies the [begin, begin + size) box of a row-major `source` of `shape` into `target`. */
export function copyBox(
  source: tf.TypedArray | Uint8Array,
  shape: number[],
  begin: number[],
  size: number[],
  target: tf.TypedArray | Uint8Array,
): void {
  const rank = shape.length;
  if (rank === 0) {
    target[0] = source[0]!;
    return;
  }
  const strides = [...tf.util.computeStrides(shape), 1];
  // The innermost axes the slice takes whole, plus the first partial one, form contiguous runs.
  let runAxis = rank - 1;
  let run = size[rank - 1]!;
  while (runAxis > 0 && size[runAxis] === shape[runAxis]) {
    runAxis--;
    run *= size[runAxis]!;
  }
  const base = begin.reduce((sum, b, axis) => sum + b * strides[axis]!, 0);
  const outer = size.slice(0, runAxis);
  const index = new Array<number>(runAxis).fill(0);
  const runs = outer.reduce((product, s) => product * s, 1);
  let offset = base;
  for (let r = 0, at = 0; r < runs; r++, at += run) {
    (target as Float32Array).set((source as Float32Array).subarray(offset, offset + run), at);
    // Odometer over the outer axes, innermost first.
    for (let axis = runAxis - 1; axis >= 0; axis--) {
      offset += strides[axis]!;
      if (++index[axis]! < outer[axis]!) break;
      offset -= outer[axis]! * strides[axis]!;
      index[axis] = 0;
    }
  }
}

export function slice(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: tf.KernelBackend;
  attrs: tf.NamedAttrMap;
}): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const { x } = args.inputs as { x: tf.TensorInfo };
  if (x.dtype === 'string') return stockWasmKernel(tf.Slice).kernelFunc(args as never) as tf.TensorInfo;
  const { begin, size } = args.attrs as unknown as tf.SliceAttrs;
  const [begin_, size_] = tf.slice_util.parseSliceParams(x as tf.Tensor, begin, size) as [number[], number[]];
  tf.slice_util.assertParamsValid(x as tf.Tensor, begin_, size_);
  const out = backend.makeOutput(size_, x.dtype);
  if (tf.util.sizeFromShape(size_) === 0) return out;
  // Views after the allocation: growing the heap detaches earlier ones.
  copyBox(backend.typedArrayFromHeap(x), x.shape, begin_, size_, backend.typedArrayFromHeap(out));
  return out;
}

function splitV(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: tf.KernelBackend;
  attrs: tf.NamedAttrMap;
}): tf.TensorInfo[] {
  const { x } = args.inputs as { x: tf.TensorInfo };
  if (x.dtype === 'string') return stockWasmKernel(tf.SplitV).kernelFunc(args as never) as tf.TensorInfo[];
  const { numOrSizeSplits, axis } = args.attrs as unknown as tf.SplitVAttrs;
  const parsedAxis = tf.util.parseAxisParam(axis, x.shape)[0]!;
  const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, numOrSizeSplits, parsedAxis);
  const begin = new Array<number>(x.shape.length).fill(0);
  return sizes.map((s) => {
    const size = [...x.shape];
    size[parsedAxis] = s;
    const piece = slice({ ...args, attrs: { begin: [...begin], size } });
    begin[parsedAxis]! += s;
    return piece;
  });
}

function unpack(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: tf.KernelBackend;
  attrs: tf.NamedAttrMap;
}): tf.TensorInfo[] {
  const { value } = args.inputs as { value: tf.TensorInfo };
  if (value.dtype === 'string')
    return stockWasmKernel(tf.Unpack).kernelFunc(args as never) as tf.TensorInfo[];
  const rank = value.shape.length;
  let { axis } = args.attrs as unknown as tf.UnpackAttrs;
  if (axis < 0) axis += rank;
  const outShape = value.shape.filter((_, i) => i !== axis);
  const size = [...value.shape];
  size[axis] = 1;
  return Array.from({ length: value.shape[axis]! }, (_, i) => {
    const begin = new Array<number>(rank).fill(0);
    begin[axis] = i;
    const piece = slice({ inputs: { x: value }, backend: args.backend, attrs: { begin, size } });
    return { dataId: piece.dataId, dtype: piece.dtype, shape: outShape };
  });
}

/** StridedSlice: unit-stride boxes through `slice` (then a free reshape), the rest on the stock kernel. */
function stridedSlice(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: tf.KernelBackend;
  attrs: tf.NamedAttrMap;
}): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const { x } = args.inputs as { x: tf.TensorInfo };
  const { begin, end, strides, beginMask, endMask, ellipsisMask, newAxisMask, shrinkAxisMask } =
    args.attrs as unknown as tf.StridedSliceAttrs;
  const info = tf.slice_util.sliceInfo(
    x.shape,
    begin,
    end,
    strides,
    beginMask,
    endMask,
    ellipsisMask,
    newAxisMask,
    shrinkAxisMask,
  );
  if (
    x.dtype === 'string' ||
    info.isIdentity ||
    !(info.sliceDim0 || info.isSimpleSlice) ||
    x.shape.length < 1
  )
    return stockWasmKernel(tf.StridedSlice).kernelFunc(args as never) as tf.TensorInfo;
  const size = tf.slice_util.computeOutShape(info.begin, info.end, info.strides);
  // An empty box (begin past end): stock wasm fails to reshape it; the result is simply empty.
  if (size.some((d) => d < 1)) return backend.makeOutput(info.finalShape, x.dtype);
  const sliced = slice({ inputs: { x }, backend, attrs: { begin: info.begin, size } });
  return { dataId: sliced.dataId, dtype: sliced.dtype, shape: info.finalShape };
}

export const sliceConfig: tf.KernelConfig = {
  kernelName: tf.Slice,
  backendName: 'wasm',
  kernelFunc: slice as unknown as tf.KernelFunc,
};

export const splitVConfig: tf.KernelConfig = {
  kernelName: tf.SplitV,
  backendName: 'wasm',
  kernelFunc: splitV as unknown as tf.KernelFunc,
};

export const unpackConfig: tf.KernelConfig = {
  kernelName: tf.Unpack,
  backendName: 'wasm',
  kernelFunc: unpack as unknown as tf.KernelFunc,
};

export const stridedSliceConfig: tf.KernelConfig = {
  kernelName: tf.StridedSlice,
  backendName: 'wasm',
  kernelFunc: stridedSlice as unknown as tf.KernelFunc,
  // The stock kernel binds its wasm function here; the cases handed to it need that binding.
  setupFunc: (backend) => stockWasmKernel(tf.StridedSlice).setupFunc?.(backend),
};
