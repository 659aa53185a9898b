import { perExampleConv2DFilterSquaredNorms, tf } from '@fisherlab/engine';
import { perExampleProductSquaredNorm } from './outer-product.js';
import type { PerExampleCell } from './types.js';
import { applyLayerActivation, isTrainableWeight, layerWeight } from './weights.js';

export interface Conv2DConfig {
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
 * Patches of x [B, H, W, Cin] at every output position, features first: [B, kh·kw·Cin, outH·outW]
 * with features in the order (kh, kw, Cin) of a tfjs kernel [kh, kw, Cin, Cout] (a transposed
 * im2col). Built from kh·kw strided slices of the padded, channel-major input (transposing x is
 * cheaper than transposing the patches); 'same' pads like TensorFlow (total
 * max((out−1)·s + (k−1)·d + 1 − in, 0), the smaller half first).
 */
export function unfoldPatchesTransposed(
  x: tf.Tensor4D,
  kernelSize: [number, number],
  outSize: [number, number],
  config: Conv2DConfig,
): tf.Tensor3D {
  return tf.tidy(() => {
    const [batch, , , cin] = x.shape;
    const [kh, kw] = kernelSize;
    const [oh, ow] = outSize;
    const [sh, sw] = config.strides;
    const [dh, dw] = config.dilationRate;
    const padded = tf.transpose(padForConv(x, kernelSize, outSize, config), [0, 3, 1, 2]);
    const slices: tf.Tensor3D[] = [];
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const slice = tf.stridedSlice(
          padded,
          [0, 0, i * dh, j * dw],
          [batch, cin, i * dh + (oh - 1) * sh + 1, j * dw + (ow - 1) * sw + 1],
          [1, 1, sh, sw],
        );
        slices.push(tf.reshape(slice, [batch, cin, oh * ow]));
      }
    }
    return slices.length === 1 ? slices[0]! : tf.concat(slices, 1);
  });
}

/**
 * How per-example kernel gradient norms are computed; all give the same numbers (tested). 'auto'
 * (the default) is 'native' where the native CPU tier runs and covers the layer, else 'depthwise'.
 */
export type ConvKernelMethod = 'auto' | 'native' | 'depthwise' | 'unfold';

export interface ConvKernelNormOptions {
  method?: ConvKernelMethod;
  /** Per-example gradients are formed in chunks of examples holding at most this many floats (2^24). */
  maxChunkFloats?: number;
}

/**
 * Per-example ‖∂ℓᵢ/∂K‖² for a Conv2D kernel K [kh, kw, Cin, Cout] from its input x [B, H, W, Cin]
 * and pre-activation gradient δ [B, oh, ow, Cout]. The kernel gradient of example i is itself a
 * correlation of its padded input with its output gradient:
 *   Gᵢ[a, b, c, o] = Σ_{y,x} xpᵢ[y·s + a·d, x·s + b·d, c] · δᵢ[y, x, o]      (s stride, d dilation)
 * 'depthwise' (default) computes every Gᵢ in one depthwise convolution: channels = examples, the
 * input is xp transposed to [Cin, Hp, Wp, B], the filter is δ transposed to [oh, ow, B, Cout]
 * (channel multiplier Cout, dilation s, stride d), giving [Cin, kh, kw, B·Cout]; no per-example
 * matmul, one op that backends run fast. 'unfold' forms Gᵢ = Uᵢᵀ Δᵢ from im2col patches with a
 * batched matmul (perExampleProductSquaredNorm). Examples go in chunks to bound memory.
 * 'native' has the native tier compute each norm itself, per layer the cheaper of a backward-weights
 * convolution of each example alone (squares summed) or the Gram form Σ(UᵢUᵢᵀ)⊙(ΔᵢΔᵢᵀ) (deep
 * layers); no per-example gradient tensor at all, 9x faster than 'depthwise' on SimpleCNN there.
 */
export function perExampleConvKernelSquaredNorms(
  input: tf.Tensor4D,
  delta: tf.Tensor4D,
  kernelSize: [number, number],
  config: Conv2DConfig,
  options: ConvKernelNormOptions = {},
): tf.Tensor1D {
  const { method = 'auto', maxChunkFloats = 1 << 24 } = options;
  if (method === 'auto' || method === 'native') {
    const native = config.dilationRate.every((d) => d === 1)
      ? perExampleConv2DFilterSquaredNorms(input, delta, {
          filterShape: [kernelSize[0], kernelSize[1], input.shape[3], delta.shape[3]],
          strides: config.strides,
          pad: config.padding,
        })
      : undefined;
    if (native) return native;
    if (method === 'native')
      throw new Error(
        `per-example conv norms: method 'native' needs the native CPU tier active (FISHERLAB_NATIVE=on, see 'fisherlab doctor') and a layer it covers (dilation 1); use 'auto' to fall back`,
      );
  }
  const [batch, , , cin] = input.shape;
  const [, oh, ow, cout] = delta.shape;
  const [kh, kw] = kernelSize;
  const chunk = Math.max(1, Math.min(batch, Math.floor(maxChunkFloats / (kh * kw * cin * cout))));
  if (chunk < batch) {
    const parts: tf.Tensor1D[] = [];
    for (let start = 0; start < batch; start += chunk) {
      const size = Math.min(chunk, batch - start);
      parts.push(
        tf.tidy(() =>
          perExampleConvKernelSquaredNorms(
            tf.slice(input, start, size),
            tf.slice(delta, start, size),
            kernelSize,
            config,
            options,
          ),
        ),
      );
    }
    const all = tf.concat(parts);
    tf.dispose(parts);
    return all;
  }
  return tf.tidy(() => {
    if (method === 'unfold') {
      const patches = unfoldPatchesTransposed(input, kernelSize, [oh, ow], config);
      return perExampleProductSquaredNorm(patches, tf.reshape(delta, [batch, oh * ow, cout]) as tf.Tensor3D);
    }
    const [sh, sw] = config.strides;
    const [dh, dw] = config.dilationRate;
    // Exactly the rows and columns the layer's windows read: (out−1)·s + (k−1)·d + 1.
    const spanH = (oh - 1) * sh + (kh - 1) * dh + 1;
    const spanW = (ow - 1) * sw + (kw - 1) * dw + 1;
    const padded = tf.slice(
      padForConv(input, [kh, kw], [oh, ow], config),
      [0, 0, 0, 0],
      [batch, spanH, spanW, cin],
    );
    const examplesAsChannels = tf.transpose(padded, [3, 1, 2, 0]) as tf.Tensor4D;
    const deltaAsFilter = tf.transpose(delta, [1, 2, 0, 3]) as tf.Tensor4D;
    const grads = tf.depthwiseConv2d(examplesAsChannels, deltaAsFilter, [dh, dw], 'valid', 'NHWC', [sh, sw]);
    return tf.sum(tf.square(tf.reshape(grads, [cin * kh * kw, batch, cout])), [0, 2]) as tf.Tensor1D;
  });
}

/** x padded as the layer pads it: nothing for 'valid'; TensorFlow's 'same' split, the smaller half first. */
function padForConv(
  x: tf.Tensor4D,
  kernelSize: [number, number],
  outSize: [number, number],
  config: Conv2DConfig,
): tf.Tensor4D {
  if (config.padding !== 'same') return x;
  const [, h, w] = x.shape;
  const padH = Math.max(
    (outSize[0] - 1) * config.strides[0] + (kernelSize[0] - 1) * config.dilationRate[0] + 1 - h,
    0,
  );
  const padW = Math.max(
    (outSize[1] - 1) * config.strides[1] + (kernelSize[1] - 1) * config.dilationRate[1] + 1 - w,
    0,
  );
  const top = Math.floor(padH / 2);
  const left = Math.floor(padW / 2);
  return tf.pad(x, [
    [0, 0],
    [top, padH - top],
    [left, padW - left],
    [0, 0],
  ]);
}

/**
 * Conv2D (channels last): z = conv(x, K) + b. Per example, ∂ℓᵢ/∂K is the correlation of the padded
 * input with δᵢ (perExampleConvKernelSquaredNorms) and ∂ℓᵢ/∂b = Σₚ δᵢₚ.
 */
export const conv2dCell: PerExampleCell = {
  className: 'Conv2D',
  unsupportedReason(layer) {
    const config = convConfig(layer);
    if (config.dataFormat !== 'channelsLast') return `dataFormat ${config.dataFormat} (only channelsLast)`;
    if (config.padding !== 'valid' && config.padding !== 'same') return `padding ${config.padding}`;
    // tfjs 4.22 has no gradient for dilated conv2d, so neither this cell nor the loop can run.
    if (config.dilationRate.some((d) => d !== 1))
      return `dilationRate ${config.dilationRate} (tfjs has no gradient)`;
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
      const batch = delta.shape[0]!;
      let norms = tf.zeros([batch]) as tf.Tensor1D;
      if (isTrainableWeight(layer, 'kernel')) {
        const [kh, kw] = kernel.shape as [number, number, number, number];
        norms = tf.add(
          norms,
          perExampleConvKernelSquaredNorms(
            input as tf.Tensor4D,
            delta as tf.Tensor4D,
            [kh, kw],
            convConfig(layer),
          ),
        );
      }
      if (isTrainableWeight(layer, 'bias'))
        norms = tf.add(norms, tf.sum(tf.square(tf.sum(delta, [1, 2])), 1));
      return norms;
    });
  },
};
