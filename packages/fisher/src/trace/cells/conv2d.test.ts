import { tf } from '@fisherlab/engine';
import { beforeAll, describe, expect, it } from 'vitest';
import { perExampleSquaredGradNormsByLoop } from '../per-example.js';
import { type Conv2DConfig, type ConvKernelMethod, perExampleConvKernelSquaredNorms } from './conv2d.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/**
 * Per-example kernel-gradient norms of a lone Conv2D layer, by both methods, against one backward
 * pass per example (the loop) on a model whose logits are the flattened conv output times a fixed
 * matrix, so δ is known in closed form: δᵢ = (softmax(zᵢ) − e_y) reshaped through that matrix.
 */
describe('perExampleConvKernelSquaredNorms', () => {
  const configs: [string, number[], Partial<Conv2DConfig> & { kernelSize: [number, number] }][] = [
    ['3x3 valid', [4, 7, 7, 2], { kernelSize: [3, 3], padding: 'valid' }],
    ['3x3 same', [4, 6, 6, 3], { kernelSize: [3, 3], padding: 'same' }],
    ['3x2 stride 2 same, odd input', [4, 7, 6, 2], { kernelSize: [3, 2], padding: 'same', strides: [2, 2] }],
    [
      '2x2 stride 3 valid, rows left over',
      [4, 8, 8, 2],
      { kernelSize: [2, 2], padding: 'valid', strides: [3, 3] },
    ],
  ];
  for (const [name, shape, c] of configs) {
    for (const method of ['depthwise', 'unfold'] as ConvKernelMethod[]) {
      it(`${method} equals the per-example loop: ${name}`, () => {
        const config: Conv2DConfig = {
          strides: c.strides ?? [1, 1],
          padding: c.padding ?? 'valid',
          dilationRate: c.dilationRate ?? [1, 1],
        };
        const conv = tf.layers.conv2d({
          inputShape: shape.slice(1),
          filters: 3,
          kernelSize: c.kernelSize,
          strides: config.strides,
          padding: config.padding,
          dilationRate: config.dilationRate,
          useBias: false,
          kernelInitializer: tf.initializers.glorotNormal({ seed: 1 }),
        });
        const model = tf.sequential({
          layers: [
            conv,
            tf.layers.flatten(),
            tf.layers.dense({ units: 3, useBias: false, trainable: false }),
          ],
        });
        const x = tf.randomNormal(
          shape as [number, number, number, number],
          0,
          1,
          'float32',
          2,
        ) as tf.Tensor4D;
        const labels = new Int32Array([0, 1, 2, 1]);
        const loop = perExampleSquaredGradNormsByLoop(model, x, labels).get(conv.name)!;
        const before = tf.memory().numTensors;
        const norms = tf.tidy(() => {
          const kernel = conv.getWeights()[0]!;
          const { value, grads } = tf.valueAndGrads((z: tf.Tensor) => {
            const logits = model.layers[2]!.apply(tf.reshape(z, [4, -1])) as tf.Tensor2D;
            return tf.neg(tf.sum(tf.mul(tf.logSoftmax(logits), tf.oneHot(tf.tensor1d(labels, 'int32'), 3))));
          })([
            tf.conv2d(x, kernel as tf.Tensor4D, config.strides, config.padding, 'NHWC', config.dilationRate),
          ]);
          value.dispose();
          // Chunks of 2 examples at most, to exercise the chunked path too.
          const maxChunkFloats = 2 * c.kernelSize[0] * c.kernelSize[1] * shape[3]! * 3;
          return perExampleConvKernelSquaredNorms(x, grads[0] as tf.Tensor4D, c.kernelSize, config, {
            method,
            maxChunkFloats,
          }).dataSync();
        });
        expect(tf.memory().numTensors).toBe(before);
        loop.forEach((expected, i) => {
          expect(Math.abs(norms[i]! - expected)).toBeLessThanOrEqual(1e-5 * Math.max(1, expected));
        });
        x.dispose();
      });
    }
  }
});
