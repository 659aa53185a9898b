import * as tf from '@tensorflow/tfjs';

/**
 * The convolution a Conv2DBackpropFilter / Conv2DBackpropInput call differentiates, as tfjs's
 * Conv2DInfo (dilation 1: tfjs has no gradient for dilated convolutions), shared by the wasm and
 * native kernels of both directions.
 */
function convInfo(
  inputShape: [number, number, number, number],
  filterShape: [number, number, number, number],
  attrs: {
    strides: [number, number] | number;
    pad: tf.Conv2DBackpropInputAttrs['pad'];
    dataFormat: 'NHWC' | 'NCHW';
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
  },
): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(
    inputShape,
    filterShape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    tf.backend_util.convertConv2DDataFormat(attrs.dataFormat),
  );
}

/** For Conv2DBackpropFilter: the input x is given, the filter shape is an attr. */
export function backpropFilterInfo(x: tf.TensorInfo, attrs: tf.NamedAttrMap): tf.backend_util.Conv2DInfo {
  const a = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  return convInfo(x.shape as [number, number, number, number], a.filterShape, a);
}

/** For Conv2DBackpropInput: the filter is given, the input shape is an attr. */
export function backpropInputInfo(filter: tf.TensorInfo, attrs: tf.NamedAttrMap): tf.backend_util.Conv2DInfo {
  const a = attrs as unknown as tf.Conv2DBackpropInputAttrs;
  return convInfo(a.inputShape, filter.shape as [number, number, number, number], a);
}
