import { initBackend, tf } from '@fisherlab/engine';
import { beforeAll, describe, expect, it } from 'vitest';
import { weightSeed } from './init.js';
import { weightRoles } from './params.js';
import { createModel, type ModelSpec } from './registry.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

const weightsOf = (spec: ModelSpec): Map<string, Float32Array> => {
  const model = createModel(spec);
  const out = new Map(weightRoles(model).map((r) => [r.name, r.variable.dataSync() as Float32Array]));
  model.dispose();
  return out;
};

describe('seeded initialization', () => {
  const spec: ModelSpec = {
    arch: 'wrn',
    depth: 10,
    width: 1,
    inputShape: [32, 32, 3],
    numClasses: 10,
    seed: 42,
  };

  it('the same seed gives identical weights; another seed different ones', () => {
    const a = weightsOf(spec);
    const b = weightsOf(spec);
    const c = weightsOf({ ...spec, seed: 43 });
    for (const [name, values] of a) {
      expect(b.get(name), name).toEqual(values);
    }
    expect(c.get('conv1/kernel')).not.toEqual(a.get('conv1/kernel'));
  });

  it('each weight gets its own stream (no two kernels of equal shape start equal)', () => {
    const w = weightsOf(spec);
    expect(w.get('block1.layer.0.conv1/kernel')).not.toEqual(w.get('block1.layer.0.conv2/kernel'));
    expect(weightSeed(42, 'a/kernel')).not.toBe(weightSeed(42, 'b/kernel'));
  });
});

const maxAbs = (v: Float32Array): number => v.reduce((m, x) => Math.max(m, Math.abs(x)), 0);

/** Sample variance of an array. */
const variance = (v: Float32Array): number => {
  const mean = v.reduce((s, x) => s + x, 0) / v.length;
  return v.reduce((s, x) => s + (x - mean) ** 2, 0) / (v.length - 1);
};

describe("'pytorch' initialization is torch.nn's default", () => {
  const w = weightsOf({ arch: 'vgg11', inputShape: [32, 32, 3], numClasses: 100, seed: 7 });

  it('conv and linear kernels are U(−1/√fan_in, 1/√fan_in), biases too', () => {
    // fan_in: features.4 is Conv2d(64→128, 3x3): 576; classifier is Linear(512→100): 512.
    for (const [layer, fanIn] of [
      ['features.4', 64 * 9],
      ['classifier', 512],
    ] as const) {
      const bound = 1 / Math.sqrt(fanIn);
      const kernel = w.get(`${layer}/kernel`)!;
      const bias = w.get(`${layer}/bias`)!;
      expect(maxAbs(kernel)).toBeLessThanOrEqual(bound);
      expect(maxAbs(bias)).toBeLessThanOrEqual(bound);
      // U(−b, b) has variance b²/3; with n ≥ 51k draws the sample variance is within ~1% (5 s.e.).
      const expected = bound ** 2 / 3;
      const se = expected * Math.sqrt(0.8 / kernel.length); // var of s² for a uniform: (4/5)σ⁴/n
      expect(Math.abs(variance(kernel) - expected)).toBeLessThan(5 * se);
      // Biases are random, not zero: some exceed half the bound.
      expect(maxAbs(bias)).toBeGreaterThan(bound / 2);
    }
  });

  it('BatchNorm starts at γ = 1, β = 0, running mean 0, running variance 1', () => {
    expect(new Set(w.get('features.1/gamma'))).toEqual(new Set([1]));
    expect(new Set(w.get('features.1/beta'))).toEqual(new Set([0]));
    expect(new Set(w.get('features.1/moving_mean'))).toEqual(new Set([0]));
    expect(new Set(w.get('features.1/moving_variance'))).toEqual(new Set([1]));
  });
});

describe("'tfjs' initialization keeps the tfjs defaults", () => {
  it('Glorot-uniform kernels, zero biases', () => {
    const w = weightsOf({
      arch: 'simplecnn',
      inputShape: [28, 28, 1],
      numClasses: 10,
      init: 'tfjs',
      seed: 3,
    });
    const kernel = w.get('fc1/kernel')!; // Linear(3136 → 128)
    const bound = Math.sqrt(6 / (3136 + 128));
    expect(maxAbs(kernel)).toBeLessThanOrEqual(bound);
    expect(maxAbs(kernel)).toBeGreaterThan(0.99 * bound);
    expect(new Set(w.get('fc1/bias'))).toEqual(new Set([0]));
  });
});

describe('layers follow PyTorch semantics', () => {
  it('a strided 3x3 conv pads symmetrically like padding=1, not like TF "same"', () => {
    const model = createModel({ arch: 'resnet18', inputShape: [8, 8, 3], numClasses: 2, seed: 1 });
    const conv = model.getLayer('layer2.0.conv1'); // 3x3, stride 2, padding 1
    const kernel = conv.getWeights()[0]!;
    const x = tf.randomNormal([1, 8, 8, 64], 0, 1, 'float32', 5) as tf.Tensor4D;
    const viaLayer = conv.apply(
      tf.pad(x, [
        [0, 0],
        [1, 1],
        [1, 1],
        [0, 0],
      ]),
    ) as tf.Tensor;
    const symmetric = tf.conv2d(x, kernel as tf.Tensor4D, 2, [
      [0, 0],
      [1, 1],
      [1, 1],
      [0, 0],
    ]);
    const tfSame = tf.conv2d(x, kernel as tf.Tensor4D, 2, 'same');
    // The model applies its own zero-padding layer before this conv: check it is exactly 1 on each side.
    const pad = model.getLayer('layer2.0.conv1.pad').getConfig() as { padding: number[][] };
    expect(pad.padding).toEqual([
      [1, 1],
      [1, 1],
    ]);
    expect(conv.getConfig()['padding']).toBe('valid');
    expect(Array.from(viaLayer.dataSync())).toEqual(Array.from(symmetric.dataSync()));
    expect(tf.max(tf.abs(tf.sub(symmetric, tfSame))).dataSync()[0]).toBeGreaterThan(1e-3);
    model.dispose();
  });
});
