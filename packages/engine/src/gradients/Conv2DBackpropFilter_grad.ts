import * as tf from '@tensorflow/tfjs';

/**
 * dW = Conv2DBackpropFilter(x, dy) is bilinear in (x, dy). For an incoming gradient ddW on dW:
 *   ∂⟨ddW, dW⟩/∂x  = conv2DBackpropInput(dy, ddW)   (the input gradient of a conv with filter ddW)
 *   ∂⟨ddW, dW⟩/∂dy = conv2d(x, ddW)                  (the forward conv with filter ddW)
 * Needed for second derivatives through every conv layer's weight gradient.
 */
export const conv2DBackpropFilterGradConfig: tf.GradConfig = {
  kernelName: tf.Conv2DBackpropFilter,
  inputsToSave: ['x', 'dy'],
  gradFunc: (ddW, saved, attrs) => {
    const [x, dy] = saved as [tf.Tensor4D, tf.Tensor4D];
    const { strides, pad, dataFormat, dimRoundingMode } = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
    const filter = ddW as tf.Tensor4D;
    return {
      x: () => {
        const inputs = { dy, filter } as unknown as tf.NamedTensorMap;
        const backpropAttrs = { strides, pad, dataFormat, dimRoundingMode, inputShape: x.shape };
        return tf
          .engine()
          .runKernel(
            tf.Conv2DBackpropInput,
            inputs,
            backpropAttrs as unknown as tf.NamedAttrMap,
          ) as tf.Tensor4D;
      },
      dy: () => tf.conv2d(x, filter, strides, pad, dataFormat, 1, dimRoundingMode),
    };
  },
};
