import * as tf from '@tensorflow/tfjs';

/**
 * The gradient of tf.fused.conv2d (every tf.layers.conv2d) without the input gradient nobody asked
 * for. Under a gradient tape, tfjs 4.22 records a fused conv as a customGrad node whose gradient
 * function computes the gradients of x, the filter and the bias all at once, eagerly. For a
 * network's first convolution x is the data, so its gradient (a full Conv2DBackpropInput) is made
 * and thrown away on every backward pass: 5 of SimpleCNN's 42 ms per training step on the native
 * tier, twice that in a penalized step.
 *
 * The backward walk (leanVariableGrads) asks `gradientWithoutInput(node)` for such nodes whose x is
 * not on a path from the variables; it returns lazy filter and bias gradients built from the same
 * ops as tfjs's (Conv2DBackpropFilter, Sum over the broadcast axes, Reshape), so the values are the
 * same and a tape recording them (double backprop) differentiates them the same way. The attrs of
 * the forward kernel are not on the customGrad node; FisherLab's FusedConv2D kernels record them
 * per output (recordFusedConv2D), and a node whose output was not recorded keeps tfjs's gradient.
 */

type FusedConvAttrs = tf.FusedConv2DAttrs;

const attrsByOutput = new WeakMap<object, FusedConvAttrs>();

/** Called by the FusedConv2D kernels with their output and attrs. */
export function recordFusedConv2D(output: tf.TensorInfo, attrs: tf.NamedAttrMap): void {
  attrsByOutput.set(output.dataId, attrs as unknown as FusedConvAttrs);
}

interface CustomGradNode {
  kernelName: string;
  inputs: Record<string, tf.Tensor>;
  outputs: tf.Tensor[];
  saved?: tf.Tensor[];
}

/** tf.fused.conv2d's customGrad node (tfjs 4.22): inputs '0' x, '1' filter, '2' bias; saved [filter, x, y, bias?]. */
const FUSED_CONV_NODE = 'fusedConv2d__op';

/**
 * Lazy gradients of a fused conv node's filter (and bias) when its input x needs none, or
 * undefined to use the node's own gradient (x needed, an activation other than linear, or attrs
 * unknown).
 */
export function gradientWithoutInput(
  node: CustomGradNode,
  dys: (tf.Tensor | null)[],
): Record<string, () => tf.Tensor> | undefined {
  if (node.kernelName !== FUSED_CONV_NODE || '0' in node.inputs) return undefined;
  const [filter, x, y, bias] = node.saved ?? [];
  const dy = dys[0];
  if (!filter || !x || !y || !dy || node.outputs[0]?.dataId !== y.dataId) return undefined;
  const attrs = attrsByOutput.get(y.dataId);
  if (!attrs) return undefined;
  const linear = attrs.activation === undefined || attrs.activation === 'linear';
  if (!linear || attrs.dataFormat !== 'NHWC' || x.rank !== 4) return undefined;
  const dilations = typeof attrs.dilations === 'number' ? [attrs.dilations] : (attrs.dilations ?? [1]);
  if (dilations.some((d) => d !== 1)) return undefined;
  const gradients: Record<string, () => tf.Tensor> = {
    '1': () =>
      tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy }, {
        strides: attrs.strides,
        pad: attrs.pad,
        dataFormat: 'NHWC',
        dimRoundingMode: attrs.dimRoundingMode,
        filterShape: filter.shape,
      } as unknown as tf.NamedAttrMap) as tf.Tensor,
  };
  if (bias) {
    gradients['2'] = () => {
      const axes = tf.backend_util.getReductionAxes(bias.shape, dy.shape);
      return tf.reshape(axes.length > 0 ? tf.sum(dy, axes) : dy, bias.shape);
    };
  }
  return gradients;
}
