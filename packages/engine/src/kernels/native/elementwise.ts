import * as tf from '@tensorflow/tfjs';
import type { BinaryOpName, UnaryOpName } from './addon.js';
import { floatsOf, makeFloatOutput, nativeAddon, runReplacedKernel } from './native-backend.js';
import { NATIVE_BACKEND_NAME } from './native-tf-backend.js';

/**
 * Element-wise kernels of the native backend. tfjs's cpu kernels compute them one JS call per
 * element, and a broadcast operand costs an index computation per element (VGG-11-BN's training
 * step at batch 128 spent 16 of its 23 s in Multiply, Sub and Add on the cpu kernels); the addon
 * runs them as vectorized loops, split across its OpenMP threads. The cpu kernels compute in JS numbers
 * (float64) and round once; the addon does the same for multi-operation formulas and computes
 * single IEEE operations in float, which rounds identically, so the binary ops and Relu, Step, Neg,
 * Square, Sqrt, Abs and Reciprocal equal the cpu backend's values exactly. Non-float32 tensors and
 * empty outputs go to the cpu kernel.
 */

/** How a broadcast binary op walks its operands: collapsed output dims and each operand's element strides. */
export interface BroadcastLayout {
  outShape: number[];
  shape: number[];
  aStrides: number[];
  bStrides: number[];
}

/**
 * The layout of `a op b` under tfjs's broadcasting: dims of size 1 in the output dropped, an
 * operand's stride 0 along a dim it is broadcast along, and neighbouring dims merged wherever both
 * operands step through them as one (e.g. [N, H, W, C] against [C] becomes [N·H·W, C] with
 * strides [C, 1] and [0, 1]).
 */
export function broadcastLayout(aShape: number[], bShape: number[]): BroadcastLayout {
  const outShape = tf.backend_util.assertAndGetBroadcastShape(aShape, bShape);
  const rank = outShape.length;
  const stridesOf = (shape: number[]): number[] => {
    const padded = [...new Array<number>(rank - shape.length).fill(1), ...shape];
    const strides = new Array<number>(rank).fill(0);
    let step = 1;
    for (let d = rank - 1; d >= 0; d--) {
      strides[d] = padded[d] === 1 ? 0 : step;
      step *= padded[d] as number;
    }
    return strides;
  };
  const aAll = stridesOf(aShape);
  const bAll = stridesOf(bShape);
  const shape: number[] = [];
  const aStrides: number[] = [];
  const bStrides: number[] = [];
  for (let d = 0; d < rank; d++) {
    const size = outShape[d] as number;
    if (size === 1) continue;
    const last = shape.length - 1;
    // Merge into the previous dim when both operands continue it contiguously (stride 0 continues 0).
    if (
      last >= 0 &&
      aStrides[last] === (aAll[d] as number) * size &&
      bStrides[last] === (bAll[d] as number) * size
    ) {
      shape[last] = (shape[last] as number) * size;
      aStrides[last] = aAll[d] as number;
      bStrides[last] = bAll[d] as number;
      continue;
    }
    shape.push(size);
    aStrides.push(aAll[d] as number);
    bStrides.push(bAll[d] as number);
  }
  if (shape.length === 0) return { outShape, shape: [1], aStrides: [0], bStrides: [0] };
  return { outShape, shape, aStrides, bStrides };
}

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs: tf.NamedAttrMap };

function binaryKernel(kernelName: string, opName: BinaryOpName): tf.KernelConfig {
  const kernelFunc = (args: KernelArgs): tf.TensorInfo => {
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    if (a.dtype !== 'float32' || b.dtype !== 'float32') return runReplacedKernel(kernelName, args);
    const layout = broadcastLayout(a.shape, b.shape);
    if (tf.util.sizeFromShape(layout.outShape) === 0) return runReplacedKernel(kernelName, args);
    const { backend } = args;
    const out = makeFloatOutput(backend, layout.outShape);
    const addon = nativeAddon();
    addon.binary(
      addon.binaryOps[opName],
      layout.shape,
      layout.aStrides,
      layout.bStrides,
      floatsOf(backend, a),
      floatsOf(backend, b),
      floatsOf(backend, out),
    );
    return out;
  };
  return { kernelName, backendName: NATIVE_BACKEND_NAME, kernelFunc: kernelFunc as unknown as tf.KernelFunc };
}

function unaryKernel(kernelName: string, opName: UnaryOpName): tf.KernelConfig {
  const kernelFunc = (args: KernelArgs): tf.TensorInfo => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    if (x.dtype !== 'float32' || tf.util.sizeFromShape(x.shape) === 0)
      return runReplacedKernel(kernelName, args);
    const { backend } = args;
    const alpha = kernelName === tf.Step ? ((args.attrs as unknown as tf.StepAttrs).alpha ?? 0) : 0;
    const y = makeFloatOutput(backend, x.shape);
    const addon = nativeAddon();
    addon.unary(addon.unaryOps[opName], floatsOf(backend, x), alpha, floatsOf(backend, y));
    return y;
  };
  return { kernelName, backendName: NATIVE_BACKEND_NAME, kernelFunc: kernelFunc as unknown as tf.KernelFunc };
}

/**
 * Fill on the native backend: a recycled array filled in place (TypedArray.fill). The cpu kernel
 * allocates a fresh one each call (page faults and zeroing), and the Sum and Mean gradients fill an
 * x-sized array of ones.
 */
function fill(args: KernelArgs): tf.TensorInfo {
  const { shape, value, dtype } = args.attrs as unknown as tf.FillAttrs;
  if ((dtype ?? 'float32') !== 'float32' || typeof value !== 'number' || tf.util.sizeFromShape(shape) === 0) {
    return runReplacedKernel(tf.Fill, args);
  }
  const out = makeFloatOutput(args.backend, [...shape]);
  floatsOf(args.backend, out).fill(value);
  return out;
}

/** ZerosLike and OnesLike: a recycled array filled in place (the gradients' zero seeds are x-sized). */
function filledLike(kernelName: string, value: number): tf.KernelConfig {
  const kernelFunc = (args: KernelArgs): tf.TensorInfo => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    if (x.dtype !== 'float32' || tf.util.sizeFromShape(x.shape) === 0)
      return runReplacedKernel(kernelName, args);
    const out = makeFloatOutput(args.backend, [...x.shape]);
    floatsOf(args.backend, out).fill(value);
    return out;
  };
  return { kernelName, backendName: NATIVE_BACKEND_NAME, kernelFunc: kernelFunc as unknown as tf.KernelFunc };
}

/**
 * Relu's gradient as one kernel of the native backend, `FisherlabReluGrad` {dy, x} → dy·step(x):
 * tfjs's stock gradient is Step then Multiply (two passes, and under double backprop an x-sized
 * step(x) kept for the Multiply's own gradient). Its gradient is in ../../gradients/Relu_grad.ts.
 */
export const RELU_GRAD = 'FisherlabReluGrad';

function reluGrad(args: KernelArgs): tf.TensorInfo {
  const { dy, x } = args.inputs as { dy: tf.TensorInfo; x: tf.TensorInfo };
  const ok = dy.dtype === 'float32' && x.dtype === 'float32' && tf.util.arraysEqual(dy.shape, x.shape);
  if (!ok)
    throw new Error(
      `${RELU_GRAD}: dy and x must be float32 of one shape, got [${dy.shape}] and [${x.shape}]`,
    );
  const { backend } = args;
  const size = tf.util.sizeFromShape(x.shape);
  const out = makeFloatOutput(backend, x.shape);
  if (size === 0) return out;
  const addon = nativeAddon();
  addon.binary(
    addon.binaryOps.reluGrad,
    [size],
    [1],
    [1],
    floatsOf(backend, dy),
    floatsOf(backend, x),
    floatsOf(backend, out),
  );
  return out;
}

/** The element-wise kernels the native backend runs on the addon (over the cpu backend's). */
export const NATIVE_ELEMENTWISE_KERNEL_CONFIGS: tf.KernelConfig[] = [
  { kernelName: tf.Fill, backendName: NATIVE_BACKEND_NAME, kernelFunc: fill as unknown as tf.KernelFunc },
  {
    kernelName: RELU_GRAD,
    backendName: NATIVE_BACKEND_NAME,
    kernelFunc: reluGrad as unknown as tf.KernelFunc,
  },
  filledLike(tf.ZerosLike, 0),
  filledLike(tf.OnesLike, 1),
  binaryKernel(tf.Add, 'add'),
  binaryKernel(tf.Sub, 'sub'),
  binaryKernel(tf.Multiply, 'mul'),
  binaryKernel(tf.RealDiv, 'div'),
  binaryKernel(tf.SquaredDifference, 'squaredDifference'),
  binaryKernel(tf.Maximum, 'maximum'),
  binaryKernel(tf.Minimum, 'minimum'),
  unaryKernel(tf.Relu, 'relu'),
  unaryKernel(tf.Step, 'step'),
  unaryKernel(tf.Neg, 'neg'),
  unaryKernel(tf.Square, 'square'),
  unaryKernel(tf.Sqrt, 'sqrt'),
  unaryKernel(tf.Rsqrt, 'rsqrt'),
  unaryKernel(tf.Exp, 'exp'),
  unaryKernel(tf.Log, 'log'),
  unaryKernel(tf.Abs, 'abs'),
  unaryKernel(tf.Reciprocal, 'reciprocal'),
  unaryKernel(tf.Sigmoid, 'sigmoid'),
];
