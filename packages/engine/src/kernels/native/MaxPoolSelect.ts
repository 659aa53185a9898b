import * as tf from '@tensorflow/tfjs';
import { type PoolAttrs, poolInfo } from '../wasm/pool-info.js';
import { nativeConvShape } from './conv-shape.js';
import { floatsOf, makeFloatOutput, nativeAddon } from './native-backend.js';

/**
 * A kernel only the native tier has: ddy = A·ddx, where A reads each max-pool window's argmax
 * (the first maximum in row-major window order, as MaxPoolGrad on every FisherLab tier picks it).
 * MaxPoolGrad computes Aᵀ·dy, so this is its gradient with respect to dy, which the Fisher
 * penalty's double backprop needs once per pool: one pass over x instead of the four kernels of
 * the portable formula (MaxPoolGrad of ones, a product, a pad and an average pool).
 */
export const MAX_POOL_SELECT = 'FisherLabMaxPoolSelect';

/** The pool's window attrs (as MaxPoolGrad's). */
export type MaxPoolSelectAttrs = PoolAttrs;

function maxPoolSelectKernel(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: tf.KernelBackend;
  attrs: tf.NamedAttrMap;
}): tf.TensorInfo {
  const { backend } = args;
  const { ddx, input } = args.inputs as { ddx: tf.TensorInfo; input: tf.TensorInfo };
  const info = poolInfo(input, args.attrs as unknown as MaxPoolSelectAttrs);
  const ddy = makeFloatOutput(backend, info.outShape);
  nativeAddon().maxPoolSelect(
    nativeConvShape(info),
    floatsOf(backend, input),
    floatsOf(backend, ddx),
    floatsOf(backend, ddy),
  );
  return ddy;
}

export const nativeMaxPoolSelectConfig = {
  kernelName: MAX_POOL_SELECT,
  backendName: 'wasm',
  kernelFunc: maxPoolSelectKernel as unknown as tf.KernelFunc,
} satisfies tf.KernelConfig;

/**
 * Its gradient (for third-order use): with respect to ddx, Aᵀ·dddy = MaxPoolGrad(dddy); x only
 * chooses the windows' argmaxes, so its gradient is zero.
 */
export const maxPoolSelectGradConfig: tf.GradConfig = {
  kernelName: MAX_POOL_SELECT,
  inputsToSave: ['input'],
  gradFunc: (dddy, saved, attrs) => {
    const [input] = saved as [tf.Tensor4D];
    const a = attrs as unknown as MaxPoolSelectAttrs;
    return {
      ddx: () =>
        tf.engine().runKernel(
          tf.MaxPoolGrad,
          {
            dy: dddy as tf.Tensor,
            input,
            output: tf.maxPool(input, a.filterSize, a.strides, a.pad, a.dimRoundingMode),
          },
          a as unknown as tf.NamedAttrMap,
        ) as tf.Tensor,
      input: () => tf.zerosLike(input),
    };
  },
};

/**
 * A·ddx on the native tier (see MAX_POOL_SELECT) for float32 NHWC tensors, or undefined, computing
 * nothing, where the native tier is not the active backend.
 */
export function maxPoolSelect(
  ddx: tf.Tensor4D,
  input: tf.Tensor4D,
  attrs: MaxPoolSelectAttrs,
): tf.Tensor4D | undefined {
  if (!tf.getKernel(MAX_POOL_SELECT, tf.getBackend())) return undefined;
  if (ddx.dtype !== 'float32' || input.dtype !== 'float32' || input.size === 0) return undefined;
  if (poolInfo(input, attrs).outShape.some((d) => d <= 0)) return undefined;
  return tf
    .engine()
    .runKernel(MAX_POOL_SELECT, { ddx, input }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}
