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

describe("'reference' initialization redoes what the reference code does after construction", () => {
  it('wrn and densenet: conv kernels N(0, 2/(k²·out)), Linear bias 0, Linear kernel torch default', () => {
    for (const spec of [
      {
        arch: 'wrn',
        depth: 10,
        width: 4,
        inputShape: [32, 32, 3],
        numClasses: 10,
        init: 'reference',
        seed: 9,
      },
      { arch: 'densenet', depth: 40, inputShape: [32, 32, 3], numClasses: 10, init: 'reference', seed: 9 },
    ] as ModelSpec[]) {
      const model = createModel(spec);
      const roles = weightRoles(model);
      let checked = 0;
      for (const role of roles.filter(
        (r) => r.layerClass === 'Conv2D' && r.kind === 'kernel' && r.size >= 5_000,
      )) {
        const [kh, kw, , out] = role.shape as [number, number, number, number];
        const values = role.variable.dataSync() as Float32Array;
        const expected = 2 / (kh * kw * out);
        // Var of s² for a normal sample: 2σ⁴/(n−1); allow 5 standard errors.
        expect(Math.abs(variance(values) - expected), role.name).toBeLessThan(
          5 * expected * Math.sqrt(2 / values.length),
        );
        checked++;
      }
      expect(checked).toBeGreaterThan(2);
      const fc = roles.filter((r) => r.layer === 'fc');
      expect(new Set(fc.find((r) => r.kind === 'bias')!.variable.dataSync())).toEqual(new Set([0]));
      const fcKernel = fc.find((r) => r.kind === 'kernel')!;
      expect(maxAbs(fcKernel.variable.dataSync() as Float32Array)).toBeLessThanOrEqual(
        1 / Math.sqrt(fcKernel.shape[0]!),
      );
      model.dispose();
    }
  });

  it('vgg11 and resnet18 keep the torch defaults (kuangliu re-initialises nothing)', () => {
    const reference = weightsOf({
      arch: 'resnet18',
      inputShape: [16, 16, 3],
      numClasses: 10,
      init: 'reference',
      seed: 4,
    });
    const pytorch = weightsOf({ arch: 'resnet18', inputShape: [16, 16, 3], numClasses: 10, seed: 4 });
    // Byte comparison: vitest's deep equality walks 11M floats far too slowly.
    for (const [name, values] of reference) {
      expect(Buffer.from(pytorch.get(name)!.buffer).equals(Buffer.from(values.buffer)), name).toBe(true);
    }
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
