import { tf } from '@fisherlab/engine';
import { beforeAll, describe, expect, it } from 'vitest';
import { sampleLabels, traceUniform as seededUniform } from '../labels.js';
import { perExampleProductSquaredNorm } from './cells/outer-product.js';
import {
  batchNormConvNet,
  randomImages,
  residualConvNet,
  smallConvNet,
  softmaxRegression,
} from './fixtures/models.js';
import { perExampleSquaredGradNorms, perExampleSquaredGradNormsByLoop } from './per-example.js';
import { ModelWalker } from './walker.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const expectClose = (actual: ArrayLike<number>, expected: ArrayLike<number>, relative = 2e-5) => {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    expect(Math.abs(actual[i]! - expected[i]!)).toBeLessThanOrEqual(
      relative * Math.max(1, Math.abs(expected[i]!)),
    );
  }
};

/** A Dense layer over a sequence ([B, T, F] input): exercises the shared-weight (A_iᵀ Δ_i) path. */
function sequenceDenseNet(): tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.dense({
        inputShape: [5, 3],
        units: 4,
        activation: 'tanh',
        kernelInitializer: 'glorotNormal',
      }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 3 }),
    ],
  });
}

describe('one-pass per-example gradient norms', () => {
  const cases: [string, () => tf.LayersModel, number[]][] = [
    ['softmax regression', () => softmaxRegression(7, 5), [9, 7]],
    ['conv + relu + maxpool + strided same conv + dense', () => smallConvNet(), [9, 8, 8, 3]],
    ['conv + batch norm (inference) + dense', () => batchNormConvNet(), [9, 6, 6, 2]],
    ['functional residual with a depthwise conv (loop fallback)', () => residualConvNet(), [9, 6, 6, 2]],
    ['dense over a sequence', () => sequenceDenseNet(), [9, 5, 3]],
  ];
  for (const [name, build, shape] of cases) {
    it(`equal the per-example loop's, per layer: ${name}`, () => {
      const model = build();
      const walker = new ModelWalker(model);
      const x = randomImages(shape, 11);
      const before = tf.memory().numTensors;
      const uniform = seededUniform(5);
      const onePass = perExampleSquaredGradNorms(walker, x, (p, c) => sampleLabels(p, c, uniform));
      const loop = perExampleSquaredGradNormsByLoop(model, x, onePass.labels);
      expect(tf.memory().numTensors).toBe(before);
      expect([...onePass.perLayer.keys()].sort()).toEqual([...loop.keys()].sort());
      for (const [layer, values] of loop) expectClose(onePass.perLayer.get(layer)!, values);
      const summed = new Float64Array(shape[0]!);
      for (const values of onePass.perLayer.values()) {
        for (let i = 0; i < values.length; i++) summed[i]! += values[i]!;
      }
      expectClose(onePass.total, summed, 1e-12);
      x.dispose();
    });
  }
});

describe('perExampleProductSquaredNorm', () => {
  it('gives the same norms by the explicit product and by the Gram trick, equal to a direct sum', () => {
    const a = tf.randomNormal([3, 4, 5], 0, 1, 'float32', 1) as tf.Tensor3D;
    const d = tf.randomNormal([3, 4, 2], 0, 1, 'float32', 2) as tf.Tensor3D;
    const aTransposed = tf.transpose(a, [0, 2, 1]) as tf.Tensor3D;
    const explicit = perExampleProductSquaredNorm(aTransposed, d, 'explicit').dataSync();
    const gram = perExampleProductSquaredNorm(aTransposed, d, 'gram').dataSync();
    const av = a.arraySync();
    const dv = d.arraySync();
    const direct = av.map((ai, i) => {
      let sum = 0;
      for (let k = 0; k < 5; k++)
        for (let o = 0; o < 2; o++) {
          let g = 0;
          for (let p = 0; p < 4; p++) g += ai[p]![k]! * dv[i]![p]![o]!;
          sum += g * g;
        }
      return sum;
    });
    expectClose(explicit, direct, 1e-5);
    expectClose(gram, direct, 1e-5);
    tf.dispose([a, aTransposed, d]);
  });
});
