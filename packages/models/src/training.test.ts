import { initBackend, tf } from '@fisherlab/engine';
import { beforeAll, describe, expect, it } from 'vitest';
import { ARCHITECTURES, type Arch, createModel, type ModelSpec } from './registry.js';

/**
 * Every architecture on the wasm backend, whose training kernels (Conv2DBackpropFilter, MaxPoolGrad,
 * AvgPoolGrad) the engine registers. WRN and DenseNet use small settings; their full sizes share
 * the same layer types and are counted in registry.test.ts.
 */
const SETTINGS: Record<Arch, Partial<ModelSpec>> = {
  mlp: {},
  simplecnn: {},
  vgg11: {},
  resnet18: {},
  wrn: { depth: 10, width: 2, dropout: 0.3 },
  densenet: { depth: 22, growthRate: 6, dropout: 0.2 },
};

beforeAll(async () => {
  const report = await initBackend({ backend: 'wasm' });
  expect(report.tfBackend).toBe('wasm');
});

const crossEntropy = (model: tf.LayersModel, x: tf.Tensor, y: tf.Tensor, training: boolean) =>
  tf.losses.softmaxCrossEntropy(y, model.apply(x, { training }) as tf.Tensor) as tf.Scalar;

describe('each architecture trains a few steps on wasm', () => {
  for (const arch of ARCHITECTURES) {
    it(`${arch}: three SGD steps on one 32x32x3 batch lower its loss, every weight stays finite`, () => {
      const model = createModel({
        arch,
        inputShape: [32, 32, 3],
        numClasses: 10,
        seed: 3,
        ...SETTINGS[arch],
      } as ModelSpec);
      const x = tf.randomNormal([4, 32, 32, 3], 0, 1, 'float32', 4);
      const y = tf.oneHot(tf.tensor1d([1, 7, 3, 1], 'int32'), 10);
      const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
      const before = tf.tidy(() => crossEntropy(model, x, y, false).dataSync()[0]!);
      const firstKernel = variables[0]!.clone();
      const optimizer = tf.train.sgd(0.01);
      for (let step = 0; step < 3; step++) {
        const cost = optimizer.minimize(() => crossEntropy(model, x, y, true), true, variables);
        expect(Number.isFinite(cost!.dataSync()[0])).toBe(true);
        cost!.dispose();
      }
      const after = tf.tidy(() => crossEntropy(model, x, y, false).dataSync()[0]!);
      expect(after).toBeLessThan(before);
      expect(tf.tidy(() => tf.max(tf.abs(tf.sub(firstKernel, variables[0]!))).dataSync()[0])).toBeGreaterThan(
        0,
      );
      for (const w of model.weights) {
        expect(
          tf.tidy(() => tf.all(tf.isFinite(w.read())).dataSync()[0]),
          w.originalName,
        ).toBe(1);
      }
      tf.dispose([x, y, firstKernel]);
      optimizer.dispose();
      model.dispose();
    });
  }
});

describe('each architecture runs forward on 28x28x1 and 64x64x3 on wasm', () => {
  for (const arch of ARCHITECTURES) {
    it(`${arch}: finite logits of shape [batch, numClasses]`, () => {
      for (const inputShape of [
        [28, 28, 1],
        [64, 64, 3],
      ]) {
        const model = createModel({
          arch,
          inputShape,
          numClasses: 7,
          seed: 1,
          ...SETTINGS[arch],
        } as ModelSpec);
        const logits = tf.tidy(
          () => model.predict(tf.randomNormal([2, ...inputShape], 0, 1, 'float32', 2)) as tf.Tensor,
        );
        expect(logits.shape).toEqual([2, 7]);
        expect(Array.from(logits.dataSync()).every(Number.isFinite)).toBe(true);
        logits.dispose();
        model.dispose();
      }
    });
  }
});
