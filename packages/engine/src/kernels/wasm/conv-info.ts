import * as tf from '@tensorflow/tfjs';

/**
 * tfjs's Conv2DInfo of the convolution a Conv2D / FusedConv2D call computes or a
 * Conv2DBackpropFilter / Conv2DBackpropInput call differentiates (those: dilation 1, since tfjs
 * has no gradient for dilated convolutions), shared by the wasm and native conv kernels.
 */
interface ConvAttrs {
  strides: [number, number] | number;
  pad: tf.Conv2DAttrs['pad'];
  dataFormat: 'NHWC' | 'NCHW';
  dilations?: [number, number] | number;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

function convInfo(
  inputShape: [number, number, number, number],
  filterShape: [number, number, number, number],
  attrs: ConvAttrs,
): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(
    inputShape,
    filterShape,
    attrs.strides,
    attrs.dilations ?? 1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    tf.backend_util.convertConv2DDataFormat(attrs.dataFormat),
  );
}

const shape4 = (t: tf.TensorInfo) => t.shape as [number, number, number, number];

/** For Conv2D and FusedConv2D: input x and filter given. */
export function forwardConvInfo(
  x: tf.TensorInfo,
  filter: tf.TensorInfo,
  attrs: tf.NamedAttrMap,
): tf.backend_util.Conv2DInfo {
  return convInfo(shape4(x), shape4(filter), attrs as unknown as ConvAttrs);
}

/** For Conv2DBackpropFilter: the input x is given, the filter shape is an attr. */
export function backpropFilterInfo(x: tf.TensorInfo, attrs: tf.NamedAttrMap): tf.backend_util.Conv2DInfo {
  const a = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  return convInfo(shape4(x), a.filterShape, { ...a, dilations: 1 });
}

/** For Conv2DBackpropInput: the filter is given, the input shape is an attr. */
export function backpropInputInfo(filter: tf.TensorInfo, attrs: tf.NamedAttrMap): tf.backend_util.Conv2DInfo {
  const a = attrs as unknown as tf.Conv2DBackpropInputAttrs;
  return convInfo(a.inputShape, shape4(filter), { ...a, dilations: 1 });
}
