import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { type ConvCase, convCases, convInputs, outputShape } from '../wasm/fixtures/conv-cases.js';
import { nativeConvShape } from './conv-shape.js';
import { nativeAddonForTests, runKernelOnTier, skipNote, useTier } from './fixtures/native-tier.js';
import { perExampleConv2DFilterSquaredNorms } from './PerExampleConv2DFilterNorms.js';

/**
 * The reference: each example's filter gradient alone (by default on the cpu backend; the native
 * tier's batch kernel, a oneDNN convolution, where the cpu backend would take minutes), squared
 * and summed in float64.
 */
async function referenceNorms(
  c: ConvCase,
  x: Float32Array,
  dy: Float32Array,
  tier: 'cpu' | 'native' = 'cpu',
): Promise<number[]> {
  const [batch, ...inRest] = c.inputShape;
  const [, ...outRest] = outputShape(c);
  const perExampleIn = x.length / batch;
  const perExampleOut = dy.length / batch;
  const norms: number[] = [];
  if (tier === 'native') {
    // The addon's batch convolution, called per example straight on typed arrays.
    const info = tf.backend_util.computeConv2DInfo(
      [1, ...inRest] as [number, number, number, number],
      c.filterShape,
      c.strides,
      1,
      c.pad as 'same',
    );
    const grad = new Float32Array(c.filterShape.reduce((a, b) => a * b, 1));
    for (let n = 0; n < batch; n++) {
      const computed = nativeAddonForTests!.conv2dBackpropFilter(
        nativeConvShape(info),
        x.slice(n * perExampleIn, (n + 1) * perExampleIn),
        dy.slice(n * perExampleOut, (n + 1) * perExampleOut),
        grad,
      );
      if (!computed) throw new Error('the reference convolution was declined');
      let total = 0;
      for (const v of grad) total += v * v;
      norms.push(total);
    }
    return norms;
  }
  for (let n = 0; n < batch; n++) {
    const grad = await runKernelOnTier(
      tier,
      tf.Conv2DBackpropFilter,
      {
        x: { shape: [1, ...inRest], values: x.subarray(n * perExampleIn, (n + 1) * perExampleIn) },
        dy: { shape: [1, ...outRest], values: dy.subarray(n * perExampleOut, (n + 1) * perExampleOut) },
      },
      { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', filterShape: c.filterShape },
    );
    let total = 0;
    for (const v of grad.values) total += v * v;
    norms.push(total);
  }
  return norms;
}

describe.skipIf(!nativeAddonForTests)(
  `per-example Conv2D filter gradient norms on the native tier${skipNote}`,
  () => {
    it.each(convCases())('equal each example’s own cpu filter gradient, squared: %s', async (_name, c) => {
      const { x, dy } = convInputs(c);
      const expected = await referenceNorms(c, x, dy);
      await useTier('native');
      const norms = tf.tidy(() =>
        perExampleConv2DFilterSquaredNorms(tf.tensor4d(x, c.inputShape), tf.tensor4d(dy, outputShape(c)), {
          filterShape: c.filterShape,
          strides: c.strides,
          pad: c.pad,
        }),
      );
      if (!norms) {
        // Declined: only where oneDNN itself has no safe backward-weights convolution for one example
        // (1x1 filters with explicit padding: its gemm and reference ones only), which the batch
        // kernel reports the same way; FisherLab then forms the gradients with tfjs ops.
        const info = tf.backend_util.computeConv2DInfo(
          [1, ...c.inputShape.slice(1)] as [number, number, number, number],
          c.filterShape,
          c.strides,
          1,
          c.pad as 'same',
        );
        const computed = nativeAddonForTests!.conv2dBackpropFilter(
          nativeConvShape(info),
          x.slice(0, x.length / c.inputShape[0]),
          dy.slice(0, dy.length / c.inputShape[0]),
          new Float32Array(c.filterShape.reduce((a, b) => a * b, 1)),
        );
        expect(computed).toBe(false);
        expect(c.filterShape[0]).toBe(1);
        return;
      }
      const values = Array.from(await norms.data());
      norms.dispose();
      expect(values).toHaveLength(c.inputShape[0]);
      values.forEach((v, n) => {
        expect(Math.abs(v - expected[n]!)).toBeLessThan(1e-5 * expected[n]! + 1e-6);
      });
    });

    // Early layers (many positions, few channels) take the direct per-example convolution; deep ones
    // (VGG's 512 channels on 4x4 maps) the Gram form ‖UᵀΔ‖² = Σ (UUᵀ)⊙(ΔΔᵀ). Both at training sizes.
    it.each([
      [
        'direct: 16x16, 32 to 48 channels (a padded, blocked oneDNN layout)',
        [6, 16, 16, 32],
        [3, 3, 32, 48],
        1,
      ],
      ['Gram: 4x4, 64 to 96 channels', [6, 4, 4, 64], [3, 3, 64, 96], 1],
      ['Gram: 2x2 output of a strided valid conv', [40, 5, 5, 40], [3, 3, 40, 24], 2],
      // Against the native batch convolution per example (the cpu backend takes minutes here).
      ['Gram: 512 channels, 260 examples in three chunks of patches', [260, 4, 4, 512], [3, 3, 512, 32], 1],
    ] as const)(
      'runs at training sizes without leaking tensors, %s',
      async (_name, inputShape, filterShape, stride) => {
        await useTier('native');
        const before = tf.memory().numTensors;
        const c = {
          inputShape: [...inputShape] as [number, number, number, number],
          filterShape: [...filterShape] as [number, number, number, number],
          strides: [stride, stride] as [number, number],
          pad: stride === 1 ? ('same' as const) : ('valid' as const),
        };
        const { x, dy } = convInputs(c);
        const norms = tf.tidy(() =>
          perExampleConv2DFilterSquaredNorms(
            tf.tensor4d(x, c.inputShape),
            tf.tensor4d(dy, outputShape(c)),
            c,
          ),
        );
        const values = Array.from((await norms?.data()) ?? []);
        norms?.dispose();
        expect(tf.memory().numTensors).toBe(before);
        const expected = await referenceNorms(c, x, dy, c.inputShape[3] >= 512 ? 'native' : 'cpu');
        for (const [n, v] of values.entries())
          expect(Math.abs(v - expected[n]!) / expected[n]!).toBeLessThan(1e-5);
      },
    );

    it('is undefined, computing nothing, on the plain wasm tier and on cpu', async () => {
      const c = convCases()[0]![1];
      const { x, dy } = convInputs(c);
      for (const tier of ['wasm', 'cpu'] as const) {
        await useTier(tier);
        const before = tf.memory().numTensors;
        const norms = tf.tidy(() =>
          perExampleConv2DFilterSquaredNorms(
            tf.tensor4d(x, c.inputShape),
            tf.tensor4d(dy, outputShape(c)),
            c,
          ),
        );
        expect(norms).toBeUndefined();
        expect(tf.memory().numTensors).toBe(before);
      }
    });

    it('is undefined for what the native convolutions do not cover (an output size that does not follow)', async () => {
      await useTier('native');
      const c = convCases()[0]![1];
      const { x } = convInputs(c);
      const wrongOut = outputShape(c).map((d, i) => (i === 1 ? d + 1 : d)) as [
        number,
        number,
        number,
        number,
      ];
      const norms = tf.tidy(() =>
        perExampleConv2DFilterSquaredNorms(
          tf.tensor4d(x, c.inputShape),
          tf.zeros(wrongOut) as tf.Tensor4D,
          c,
        ),
      );
      expect(norms).toBeUndefined();
    });
  },
);
