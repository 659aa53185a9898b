import * as tf from '@tensorflow/tfjs';
import { recordFusedConv2D } from '../../secondorder/fused_conv_gradient.js';
import { forwardConvInfo } from '../wasm/conv-info.js';
import { nativeConvShape, nativeCovers } from './conv-shape.js';
import { computeOrDelegate, floatsOf, nativeAddon, runReplacedKernel } from './native-backend.js';

/**
 * FusedConv2D (conv + bias + activation, what tf.layers.conv2d runs) on the native tier:
 * y = act(conv(x, W) + b) for act ∈ {linear, relu} and a per-channel bias, one oneDNN convolution
 * with the bias and relu fused. Other activations, broadcast biases, dilations and NCHW go to the
 * wasm kernel.
 */
function fusedConv2D(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: tf.KernelBackend;
  attrs: tf.NamedAttrMap;
}): tf.TensorInfo {
  const { backend } = args;
  const { x, filter, bias } = args.inputs as {
    x: tf.TensorInfo;
    filter: tf.TensorInfo;
    bias?: tf.TensorInfo;
  };
  const { activation } = args.attrs as unknown as tf.FusedConv2DAttrs;
  const info = forwardConvInfo(x, filter, args.attrs);
  const supportedActivation = activation === undefined || activation === 'linear' || activation === 'relu';
  const perChannelBias =
    bias === undefined ||
    (bias.dtype === 'float32' && tf.util.sizeFromShape(bias.shape) === info.outChannels);
  if (!supportedActivation || !perChannelBias || !nativeCovers(info, x, filter)) {
    return runReplacedKernel(tf.FusedConv2D, args);
  }
  const y = computeOrDelegate(tf.FusedConv2D, args, info.outShape, (out) =>
    nativeAddon().conv2d(
      nativeConvShape(info),
      floatsOf(backend, x),
      floatsOf(backend, filter),
      bias ? floatsOf(backend, bias) : null,
      activation === 'relu',
      floatsOf(backend, out),
    ),
  );
  recordFusedConv2D(y, args.attrs);
  return y;
}

export const nativeFusedConv2DConfig = {
  kernelName: tf.FusedConv2D,
  backendName: 'wasm',
  kernelFunc: fusedConv2D as unknown as tf.KernelFunc,
} satisfies tf.KernelConfig;
