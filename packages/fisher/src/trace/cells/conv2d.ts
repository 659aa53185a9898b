import { tf } from '@fisherlab/engine';
import { perExampleProductSquaredNorm } from './outer-product.js';
import type { PerExampleCell } from './types.js';
import { applyLayerActivation, isTrainableWeight, layerWeight } from './weights.js';

interface Conv2DConfig {
  strides: [number, number];
  padding: 'valid' | 'same';
  dilationRate: [number, number];
}

function convConfig(layer: tf.layers.Layer): Conv2DConfig & { dataFormat: string } {
  const c = layer.getConfig() as Record<string, unknown>;
  const pair = (v: unknown): [number, number] =>
    Array.isArray(v) ? [Number(v[0]), Number(v[1] ?? v[0])] : [Number(v), Number(v)];
  return {
    strides: pair(c['strides'] ?? 1),
    padding: c['padding'] as 'valid' | 'same',
    dilationRate: pair(c['dilationRate'] ?? 1),
    dataFormat: String(c['dataFormat'] ?? 'channelsLast'),
  };
}

/**
 * Patches of x [B, H, W, Cin] at every output position, [B, outH, outW, kh·kw·Cin] in the order
 * (kh, kw, Cin) of a tfjs kernel [kh, kw, Cin, Cout] (im2col), by kh·kw strided slices of the
 * padded input; 'same' pads like TensorFlow (total max((out−1)·s + (k−1)·d + 1 − in, 0), the
 * smaller half first).
 */
export function unfoldPatches(
  x: tf.Tensor4D,
  kernelSize: [number, number],
  outSize: [number, number],
  config: Conv2DConfig,
): tf.Tensor4D {
  return tf.tidy(() => {
    const [batch, h, w, cin] = x.shape;
    const [kh, kw] = kernelSize;
    const [oh, ow] = outSize;
    const [sh, sw] = config.strides;
    const [dh, dw] = config.dilationRate;
    let padded = x;
    if (config.padding === 'same') {
      const padH = Math.max((oh - 1) * sh + (kh - 1) * dh + 1 - h, 0);
      const padW = Math.max((ow - 1) * sw + (kw - 1) * dw + 1 - w, 0);
      const top = Math.floor(padH / 2);
      const left = Math.floor(padW / 2);
      padded = tf.pad(x, [
        [0, 0],
        [top, padH - top],
        [left, padW - left],
        [0, 0],
      ]);
    }
    const slices: tf.Tensor4D[] = [];
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        slices.push(
          tf.stridedSlice(
            padded,
            [0, i * dh, j * dw, 0],
            [batch, i * dh + (oh - 1) * sh + 1, j * dw + (ow - 1) * sw + 1, cin],
            [1, sh, sw, 1],
          ) as tf.Tensor4D,
        );
      }
    }
    return slices.length === 1 ? slices[0]! : tf.concat(slices, 3);
  });
}

/**
 * Conv2D (channels last): z = conv(x, K) + b. With Uᵢ the unfolded patches of example i
 * ([P, kh·kw·Cin], P output positions) and Δᵢ its output gradient [P, Cout]:
 * ∂ℓᵢ/∂K = Uᵢᵀ Δᵢ (reshaped to K's shape), ∂ℓᵢ/∂b = Σₚ δᵢₚ.
 */
export const conv2dCell: PerExampleCell = {
  className: 'Conv2D',
  unsupportedReason(layer) {
    const config = convConfig(layer);
    if (config.dataFormat !== 'channelsLast') return `dataFormat ${config.dataFormat} (only channelsLast)`;
    if (config.padding !== 'valid' && config.padding !== 'same') return `padding ${config.padding}`;
    return layerWeight(layer, 'kernel') ? undefined : 'no kernel weight';
  },
  linear(layer, input) {
    const config = convConfig(layer);
    const kernel = layerWeight(layer, 'kernel') as tf.Tensor4D;
    const bias = layerWeight(layer, 'bias');
    let z: tf.Tensor = tf.conv2d(
      input as tf.Tensor4D,
      kernel,
      config.strides,
      config.padding,
      'NHWC',
      config.dilationRate,
    );
    if (bias) z = tf.add(z, bias);
    return { preActivation: z, cellInput: input };
  },
  activate: applyLayerActivation,
  squaredGradNorms(layer, input, delta) {
    return tf.tidy(() => {
      const kernel = layerWeight(layer, 'kernel')!;
      const [batch, oh, ow, cout] = delta.shape as [number, number, number, number];
      let norms = tf.zeros([batch]) as tf.Tensor1D;
      const d = tf.reshape(delta, [batch, oh * ow, cout]) as tf.Tensor3D;
      if (isTrainableWeight(layer, 'kernel')) {
        const [kh, kw, cin] = kernel.shape as [number, number, number, number];
        const patches = unfoldPatches(input as tf.Tensor4D, [kh, kw], [oh, ow], convConfig(layer));
        const u = tf.reshape(patches, [batch, oh * ow, kh * kw * cin]) as tf.Tensor3D;
        norms = tf.add(norms, perExampleProductSquaredNorm(u, d));
      }
      if (isTrainableWeight(layer, 'bias')) norms = tf.add(norms, tf.sum(tf.square(tf.sum(d, 1)), 1));
      return norms;
    });
  },
};
