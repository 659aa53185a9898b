import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { simpleCnn } from '../../bench/models.js';
import { softmaxCrossEntropy } from '../../losses/softmax_cross_entropy.js';
import { relativeErrors } from '../wasm/fixtures/against-cpu.js';
import { nativeAddonForTests, skipNote, type Tier, useTier } from './fixtures/native-tier.js';

/**
 * Whole models on the native tier and on the native backend against the plain wasm tier, same
 * weights and batch: the gradients of one training step, and a Hessian-vector product (double
 * backprop, which runs the native kernels again inside the gradients of Conv2DBackpropFilter /
 * Conv2DBackpropInput).
 */

const L = tf.layers;

/** A small VGG-like net: conv, batch norm, relu, max pool, twice, then a dense head. */
function smallVgg(): tf.Sequential {
  return tf.sequential({
    layers: [
      L.conv2d({
        inputShape: [12, 12, 3],
        filters: 8,
        kernelSize: 3,
        padding: 'same',
        useBias: false,
        kernelInitializer: tf.initializers.glorotNormal({ seed: 1 }),
      }),
      L.batchNormalization(),
      L.activation({ activation: 'relu' }),
      L.maxPooling2d({ poolSize: 2 }),
      L.conv2d({
        filters: 16,
        kernelSize: 3,
        padding: 'same',
        useBias: false,
        kernelInitializer: tf.initializers.glorotNormal({ seed: 2 }),
      }),
      L.batchNormalization(),
      L.activation({ activation: 'relu' }),
      L.maxPooling2d({ poolSize: 2 }),
      L.flatten(),
      L.dense({ units: 10, kernelInitializer: tf.initializers.glorotNormal({ seed: 3 }) }),
    ],
  });
}

interface Case {
  name: string;
  build: () => tf.Sequential;
  inputShape: number[];
}

const CASES: Case[] = [
  { name: 'SimpleCNN', build: simpleCnn, inputShape: [5, 32, 32, 3] },
  { name: 'VGG-like with batch norm', build: smallVgg, inputShape: [5, 12, 12, 3] },
];

/** Weights of a model built on wasm, as plain arrays, so both tiers start from the same values. */
async function buildOnWasm(c: Case): Promise<{ model: tf.Sequential; x: tf.Tensor; labels: tf.Tensor1D }> {
  await useTier('wasm');
  const model = c.build();
  const x = tf.randomNormal(c.inputShape, 0, 1, 'float32', 7);
  const labels = tf.tensor1d([0, 3, 9, 1, 3], 'int32');
  return { model, x, labels };
}

function lossOf(model: tf.Sequential, x: tf.Tensor, labels: tf.Tensor1D): () => tf.Scalar {
  return () => softmaxCrossEntropy(model.apply(x, { training: true }) as tf.Tensor2D, labels);
}

/** ∇L, flattened over all trainable weights. */
function gradients(model: tf.Sequential, x: tf.Tensor, labels: tf.Tensor1D): Float32Array {
  return tf.tidy(() => {
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const { grads } = tf.variableGrads(lossOf(model, x, labels), vars);
    return tf
      .concat(vars.map((v) => tf.reshape(grads[v.name] as tf.Tensor, [-1])))
      .dataSync() as Float32Array;
  });
}

/** H v = ∇(∇L · v), by nested tape gradients, for a fixed seeded direction v. */
function hessianVector(model: tf.Sequential, x: tf.Tensor, labels: tf.Tensor1D): Float32Array {
  return tf.tidy(() => {
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const v = vars.map((w, i) => tf.randomUniform(w.shape, -1, 1, 'float32', 40 + i));
    const gradDotV = (): tf.Scalar => {
      const { grads } = tf.variableGrads(lossOf(model, x, labels), vars);
      return tf.addN(
        vars.map((w, i) => tf.sum(tf.mul(grads[w.name] as tf.Tensor, v[i] as tf.Tensor))),
      ) as tf.Scalar;
    };
    const { grads } = tf.variableGrads(gradDotV, vars);
    return tf
      .concat(vars.map((w) => tf.reshape(grads[w.name] as tf.Tensor, [-1])))
      .dataSync() as Float32Array;
  });
}

/**
 * Runs `body` on each tier (the same tensors: the native tier is the wasm backend; for the native
 * backend tfjs moves the model's weights and inputs over when they are first used there).
 */
async function onAllTiers<T>(body: () => T): Promise<Record<Exclude<Tier, 'cpu'>, T>> {
  await useTier('wasm');
  const wasm = body();
  await useTier('native');
  const native = body();
  await useTier('native-backend');
  const nativeBackend = body();
  return { wasm, native, 'native-backend': nativeBackend };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe.skipIf(!nativeAddonForTests)(`whole models on the native tier${skipNote}`, () => {
  it.each(CASES)(
    '$name: one training step has the plain wasm tier’s gradients on both native tiers, and leaks nothing',
    async (c) => {
      const { model, x, labels } = await buildOnWasm(c);
      const addon = nativeAddonForTests!;
      const calls = {
        conv2d: vi.spyOn(addon, 'conv2d'),
        conv2dBackpropFilter: vi.spyOn(addon, 'conv2dBackpropFilter'),
        conv2dBackpropInput: vi.spyOn(addon, 'conv2dBackpropInput'),
        matmul: vi.spyOn(addon, 'matmul'),
        maxPoolGrad: vi.spyOn(addon, 'maxPoolGrad'),
        columnSums: vi.spyOn(addon, 'columnSums'),
        binary: vi.spyOn(addon, 'binary'),
        unary: vi.spyOn(addon, 'unary'),
      };
      gradients(model, x, labels); // warm-up: the first call builds the layers' weights
      const before = tf.memory().numTensors;
      const results = await onAllTiers(() => gradients(model, x, labels));
      expect(tf.memory().numTensors).toBe(before);
      // Every native entry point ran in the native passes (the first conv's Conv2DBackpropInput is
      // not needed: its input is data, so only one per later conv layer).
      for (const [name, spy] of Object.entries(calls)) expect(spy.mock.calls.length, name).toBeGreaterThan(0);
      for (const tier of ['native', 'native-backend'] as const) {
        const error = relativeErrors(results[tier], results.wasm);
        expect(error.l2, tier).toBeLessThan(1e-4);
        expect(error.max, tier).toBeLessThan(1e-3);
      }
      tf.dispose([x, labels]);
      model.dispose();
    },
  );

  it.each(CASES)(
    '$name: a Hessian-vector product (double backprop) on both native tiers matches the plain wasm tier',
    async (c) => {
      const { model, x, labels } = await buildOnWasm(c);
      gradients(model, x, labels);
      const results = await onAllTiers(() => hessianVector(model, x, labels));
      const { wasm } = results;
      expect(Math.sqrt(wasm.reduce((sum, value) => sum + value * value, 0))).toBeGreaterThan(1e-3);
      for (const tier of ['native', 'native-backend'] as const) {
        expect(relativeErrors(results[tier], wasm).l2, tier).toBeLessThan(1e-3);
      }
      tf.dispose([x, labels]);
      model.dispose();
    },
  );
});
