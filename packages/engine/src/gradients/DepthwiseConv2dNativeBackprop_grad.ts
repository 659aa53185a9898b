import * as tf from '@tensorflow/tfjs';

type DepthwiseAttrs = tf.DepthwiseConv2dNativeBackpropFilterAttrs &
  tf.DepthwiseConv2dNativeBackpropInputAttrs;

const filterGradient = (x: tf.Tensor4D, dy: tf.Tensor4D, filterShape: number[], attrs: DepthwiseAttrs) =>
  tf.engine().runKernel(
    tf.DepthwiseConv2dNativeBackpropFilter,
    { x, dy } as unknown as tf.NamedTensorMap,
    {
      strides: attrs.strides,
      pad: attrs.pad,
      dilations: attrs.dilations,
      dimRoundingMode: attrs.dimRoundingMode,
      filterShape,
    } as unknown as tf.NamedAttrMap,
  ) as tf.Tensor4D;

const inputGradient = (dy: tf.Tensor4D, filter: tf.Tensor4D, inputShape: number[], attrs: DepthwiseAttrs) =>
  tf.engine().runKernel(
    tf.DepthwiseConv2dNativeBackpropInput,
    { dy, filter } as unknown as tf.NamedTensorMap,
    {
      strides: attrs.strides,
      pad: attrs.pad,
      dilations: attrs.dilations,
      dimRoundingMode: attrs.dimRoundingMode,
      inputShape,
    } as unknown as tf.NamedAttrMap,
  ) as tf.Tensor4D;

const forward = (x: tf.Tensor4D, filter: tf.Tensor4D, attrs: DepthwiseAttrs) =>
  tf.depthwiseConv2d(
    x,
    filter,
    attrs.strides,
    attrs.pad as 'valid' | 'same' | number,
    'NHWC',
    attrs.dilations,
    attrs.dimRoundingMode,
  );

/**
 * dW = DepthwiseConv2dNativeBackpropFilter(x, dy) is bilinear in (x, dy). For an incoming ddW:
 *   ∂⟨ddW, dW⟩/∂x  = DepthwiseConv2dNativeBackpropInput(dy, ddW)   (input gradient of a depthwise conv with filter ddW)
 *   ∂⟨ddW, dW⟩/∂dy = depthwiseConv2d(x, ddW)                         (the forward depthwise conv with filter ddW)
 * Needed for second derivatives through a depthwise conv layer's weight gradient.
 */
export const depthwiseConv2dNativeBackpropFilterGradConfig: tf.GradConfig = {
  kernelName: tf.DepthwiseConv2dNativeBackpropFilter,
  inputsToSave: ['x', 'dy'],
  gradFunc: (ddW, saved, attrs) => {
    const [x, dy] = saved as [tf.Tensor4D, tf.Tensor4D];
    const a = attrs as unknown as DepthwiseAttrs;
    return {
      x: () => inputGradient(dy, ddW as tf.Tensor4D, x.shape, a),
      dy: () => forward(x, ddW as tf.Tensor4D, a),
    };
  },
};

/**
 * dx = DepthwiseConv2dNativeBackpropInput(dy, W) is bilinear in (dy, W). For an incoming ddx:
 *   ∂⟨ddx, dx⟩/∂dy = depthwiseConv2d(ddx, W)                          (the forward depthwise conv of ddx)
 *   ∂⟨ddx, dx⟩/∂W  = DepthwiseConv2dNativeBackpropFilter(ddx, dy)      (the filter gradient at input ddx)
 * Needed for second derivatives through the input gradient of a depthwise conv that is not the first layer.
 */
export const depthwiseConv2dNativeBackpropInputGradConfig: tf.GradConfig = {
  kernelName: tf.DepthwiseConv2dNativeBackpropInput,
  inputsToSave: ['dy', 'filter'],
  gradFunc: (ddx, saved, attrs) => {
    const [dy, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
    const a = attrs as unknown as DepthwiseAttrs;
    return {
      dy: () => forward(ddx as tf.Tensor4D, filter, a),
      filter: () => filterGradient(ddx as tf.Tensor4D, dy, filter.shape, a),
    };
  },
};
