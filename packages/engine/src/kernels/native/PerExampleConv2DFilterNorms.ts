import * as tf from '@tensorflow/tfjs';
import { nativeConvShape, nativeCovers } from './conv-shape.js';
import { disposeOutput, floatsOf, makeFloatOutput, nativeAddon } from './native-backend.js';

/**
 * A kernel only the native tier has (no tfjs op computes it): the squared norm of each example's
 * own Conv2D filter gradient,
 *   out[n] = Σ_{kh, kw, ci, co} (Σ_{oh, ow} x[n, oh·s + kh − pt, ow·s + kw − pl, ci] · dy[n, oh, ow, co])²,
 * what BackPACK's BatchL2Grad gives for a conv layer. The addon runs oneDNN's backward-weights
 * convolution on one example at a time into a scratch filter and sums its squares, so no
 * [N, KH, KW, Cin, Cout] tensor of per-example gradients is ever formed.
 */
export const PER_EXAMPLE_CONV2D_FILTER_SQUARED_NORMS = 'FisherLabPerExampleConv2DFilterSquaredNorms';

export interface PerExampleConv2DFilterNormsAttrs {
  /** [KH, KW, Cin, Cout] of the layer's filter. */
  filterShape: [number, number, number, number];
  strides: [number, number];
  pad: 'same' | 'valid' | number[][];
}

/** Thrown inside the kernel when the addon cannot take the shape; the op turns it into `undefined`. */
class NativeDeclined extends Error {}

function perExampleConv2DFilterSquaredNormsKernel(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: tf.KernelBackend;
  attrs: tf.NamedAttrMap;
}): tf.TensorInfo {
  const { backend } = args;
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const { filterShape, strides, pad } = args.attrs as unknown as PerExampleConv2DFilterNormsAttrs;
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    strides,
    1,
    pad as 'same',
  );
  if (!nativeCovers(info, x, dy) || !tf.util.arraysEqual(info.outShape, dy.shape)) throw new NativeDeclined();
  const out = makeFloatOutput(backend, [info.batchSize]);
  const computed = nativeAddon().perExampleConv2dFilterSquaredNorms(
    nativeConvShape(info),
    floatsOf(backend, x),
    floatsOf(backend, dy),
    floatsOf(backend, out),
  );
  if (computed) return out;
  disposeOutput(backend, out);
  throw new NativeDeclined();
}

export const nativePerExampleConv2DFilterSquaredNormsConfig = {
  kernelName: PER_EXAMPLE_CONV2D_FILTER_SQUARED_NORMS,
  backendName: 'wasm',
  kernelFunc: perExampleConv2DFilterSquaredNormsKernel as unknown as tf.KernelFunc,
} satisfies tf.KernelConfig;

/**
 * Per-example ‖∂ℓₙ/∂K‖² of a Conv2D filter K [KH, KW, Cin, Cout] (NHWC, dilation 1) from the
 * layer's input x [N, H, W, Cin] and the gradient dy [N, OH, OW, Cout] of its pre-activation
 * output, computed by the native tier. Returns undefined, computing nothing, where the native
 * tier is not the active backend or does not cover the shape; callers then form the per-example
 * gradients with tfjs ops. Not differentiable.
 */
export function perExampleConv2DFilterSquaredNorms(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  attrs: PerExampleConv2DFilterNormsAttrs,
): tf.Tensor1D | undefined {
  if (!tf.getKernel(PER_EXAMPLE_CONV2D_FILTER_SQUARED_NORMS, tf.getBackend())) return undefined;
  try {
    return tf
      .engine()
      .runKernel(
        PER_EXAMPLE_CONV2D_FILTER_SQUARED_NORMS,
        { x, dy },
        attrs as unknown as tf.NamedAttrMap,
      ) as tf.Tensor1D;
  } catch (error) {
    if (error instanceof NativeDeclined) return undefined;
    throw error;
  }
}
