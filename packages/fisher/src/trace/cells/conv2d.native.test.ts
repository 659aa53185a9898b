import { initBackend, tf } from '@fisherlab/engine';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Conv2DConfig, type ConvKernelMethod, perExampleConvKernelSquaredNorms } from './conv2d.js';

/**
 * The native tier's per-example conv norms (one backward-weights convolution per example, in the
 * addon) against the 'depthwise' and 'unfold' methods on the same inputs, at SimpleCNN/VGG-like
 * sizes. Runs where the native tier is active; under CI=true it must be (CI installs g++ and
 * libdnnl-dev).
 */
let nativeActive = false;
let nativeReason = '';
beforeAll(async () => {
  const report = await initBackend({ backend: 'wasm', native: 'auto' });
  nativeActive = report.native.active;
  nativeReason = report.native.active ? '' : (report.native.reason ?? '');
  if (!nativeActive && process.env['CI'] === 'true')
    throw new Error(`the native tier must be active under CI=true: ${nativeReason}`);
});

describe('per-example conv kernel norms on the native tier', () => {
  const cases: [string, [number, number, number, number], [number, number], Conv2DConfig, number][] = [
    ['3x3 same, 3 → 16 channels (a first layer)', [16, 16, 16, 3], [3, 3], conv(1, 'same'), 16],
    ['3x3 same, 16 → 32 channels', [8, 8, 8, 16], [3, 3], conv(1, 'same'), 32],
    ['3x3 valid, stride 2', [6, 9, 9, 4], [3, 3], conv(2, 'valid'), 8],
    ['5x5 same, stride 2, odd input', [5, 11, 7, 3], [5, 5], conv(2, 'same'), 6],
    ['1x1', [4, 5, 5, 8], [1, 1], conv(1, 'valid'), 8],
  ];
  for (const [name, inputShape, kernelSize, config, cout] of cases) {
    it(`'native' equals 'depthwise' and 'unfold': ${name}`, ({ skip }) => {
      if (!nativeActive) skip(`native tier not active: ${nativeReason}`);
      const [batch, h, w] = inputShape;
      const outH =
        config.padding === 'same'
          ? Math.ceil(h / config.strides[0])
          : Math.ceil((h - kernelSize[0] + 1) / config.strides[0]);
      const outW =
        config.padding === 'same'
          ? Math.ceil(w / config.strides[1])
          : Math.ceil((w - kernelSize[1] + 1) / config.strides[1]);
      const x = tf.randomNormal(inputShape, 0, 1, 'float32', 3) as tf.Tensor4D;
      const delta = tf.randomNormal([batch, outH, outW, cout], 0, 1, 'float32', 4) as tf.Tensor4D;
      const before = tf.memory().numTensors;
      const by = (method: ConvKernelMethod) =>
        tf.tidy(() => perExampleConvKernelSquaredNorms(x, delta, kernelSize, config, { method }).dataSync());
      const native = by('native');
      const auto = by('auto');
      expect(tf.memory().numTensors).toBe(before);
      for (const reference of [by('depthwise'), by('unfold')]) {
        reference.forEach((expected, i) => {
          expect(Math.abs(native[i]! - expected)).toBeLessThanOrEqual(2e-5 * expected);
        });
      }
      expect(Array.from(auto)).toEqual(Array.from(native));
      tf.dispose([x, delta]);
    });
  }

  it("'native' says how to get the native tier where it is not active; 'auto' falls back", async () => {
    await tf.setBackend('cpu');
    try {
      const x = tf.ones([2, 4, 4, 1]) as tf.Tensor4D;
      const delta = tf.ones([2, 4, 4, 2]) as tf.Tensor4D;
      expect(() =>
        perExampleConvKernelSquaredNorms(x, delta, [1, 1], conv(1, 'valid'), { method: 'native' }),
      ).toThrow(/FISHERLAB_NATIVE=on/);
      // Each example's gradient is 16 ones per (ci, co) entry: 2 entries of 16² each.
      expect(
        Array.from(perExampleConvKernelSquaredNorms(x, delta, [1, 1], conv(1, 'valid')).dataSync()),
      ).toEqual([512, 512]);
      tf.dispose([x, delta]);
    } finally {
      await tf.setBackend('wasm');
    }
  });
});

function conv(stride: number, padding: 'same' | 'valid'): Conv2DConfig {
  return { strides: [stride, stride], padding, dilationRate: [1, 1] };
}
