import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ensureWasm, normals, relativeErrors } from './fixtures/against-cpu.js';
import type { BackendWasm } from './wasm-backend.js';

/**
 * One SGD training step on wasm for every layer type the model zoo uses (MLP, SimpleCNN, VGG-11
 * with and without batch norm, ResNet-18, Wide ResNets with dropout, DenseNet-BC), tiny shapes.
 * It fails if any kernel a zoo model's training needs is missing on wasm, and checks the wasm
 * gradients against the cpu backend's for the same weights and batch.
 */

type Block = (x: tf.SymbolicTensor) => tf.SymbolicTensor;
const L = tf.layers;
const apply = (layer: tf.layers.Layer, x: tf.SymbolicTensor | tf.SymbolicTensor[]) =>
  layer.apply(x) as tf.SymbolicTensor;

const BLOCKS: [string, Block][] = [
  ['dense relu (MLP)', (x) => apply(L.dense({ units: 6, activation: 'relu' }), apply(L.flatten(), x))],
  [
    'conv 3x3 same relu + max pool (SimpleCNN, VGG)',
    (x) =>
      apply(
        L.maxPooling2d({ poolSize: 2 }),
        apply(L.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' }), x),
      ),
  ],
  [
    'conv + batch norm + relu (VGG-BN, ResNet)',
    (x) =>
      apply(
        L.activation({ activation: 'relu' }),
        apply(
          L.batchNormalization(),
          apply(L.conv2d({ filters: 4, kernelSize: 3, padding: 'same', useBias: false }), x),
        ),
      ),
  ],
  [
    'strided conv + 1x1 strided shortcut + add (ResNet, WRN downsampling)',
    (x) =>
      apply(L.add(), [
        apply(L.conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'same', useBias: false }), x),
        apply(L.conv2d({ filters: 4, kernelSize: 1, strides: 2, useBias: false }), x),
      ]),
  ],
  [
    'conv 1x1 + concatenate + average pool (DenseNet-BC)',
    (x) =>
      apply(
        L.averagePooling2d({ poolSize: 2, strides: 2 }),
        apply(L.concatenate(), [x, apply(L.conv2d({ filters: 2, kernelSize: 1, useBias: false }), x)]),
      ),
  ],
  ['global average pool (ResNet, WRN, DenseNet)', (x) => apply(L.globalAveragePooling2d({}), x)],
];

const wasmBuffers = () => (tf.backend() as unknown as BackendWasm).numDataIds();

function buildModel(block: Block): tf.LayersModel {
  const input = tf.input({ shape: [8, 8, 3] });
  let hidden = block(input);
  if (hidden.shape.length === 4) hidden = apply(L.flatten(), hidden);
  const logits = apply(L.dense({ units: 3 }), hidden);
  return tf.model({ inputs: input, outputs: logits });
}

const batch = () => ({
  x: tf.tensor4d(normals(3 * 8 * 8 * 3, 11), [3, 8, 8, 3]),
  y: tf.oneHot(tf.tensor1d([0, 2, 1], 'int32'), 3),
});

function gradients(model: tf.LayersModel): Float32Array[] {
  return tf.tidy(() => {
    const { x, y } = batch();
    const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const { grads } = tf.variableGrads(() => {
      const logits = model.apply(x, { training: true }) as tf.Tensor;
      return tf.losses.softmaxCrossEntropy(y, logits) as tf.Scalar;
    }, variables);
    return variables.map((v) => grads[v.name]?.dataSync() as Float32Array);
  });
}

function trainStep(model: tf.LayersModel, optimizer: tf.Optimizer): number {
  return tf.tidy(() => {
    const { x, y } = batch();
    const loss = optimizer.minimize(() => {
      const logits = model.apply(x, { training: true }) as tf.Tensor;
      return tf.losses.softmaxCrossEntropy(y, logits) as tf.Scalar;
    }, true);
    return loss?.dataSync()[0] ?? Number.NaN;
  });
}

describe('zoo layer types train on wasm', () => {
  it.each(BLOCKS)('%s: gradients match cpu, one step runs and leaks no tensors', async (_name, block) => {
    await ensureWasm();
    const model = buildModel(block);
    const onWasm = gradients(model);
    await tf.setBackend('cpu');
    const onCpu = gradients(model);
    await ensureWasm();
    expect(onWasm.length).toBe(model.trainableWeights.length);
    onWasm.forEach((g, i) => {
      expect(relativeErrors(g, onCpu[i] as Float32Array).l2).toBeLessThan(1e-4);
    });

    const optimizer = tf.train.sgd(0.1);
    trainStep(model, optimizer);
    const before = tf.memory().numTensors;
    const buffersBefore = wasmBuffers();
    const loss = trainStep(model, optimizer);
    expect(Number.isFinite(loss)).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
    // Intermediates made inside FisherLab's kernels are invisible to tf.memory(); the backend counts them.
    expect(wasmBuffers()).toBe(buffersBefore);
    model.dispose();
  });

  it('dropout (WRN): a training step runs, changes the weights and leaks no tensors', async () => {
    await ensureWasm();
    const model = buildModel((x) =>
      apply(L.dropout({ rate: 0.3 }), apply(L.conv2d({ filters: 4, kernelSize: 3 }), x)),
    );
    const optimizer = tf.train.sgd(0.1);
    trainStep(model, optimizer);
    const weightsBefore = model.getWeights().map((w) => w.dataSync().slice());
    const before = tf.memory().numTensors;
    expect(Number.isFinite(trainStep(model, optimizer))).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
    const moved = model
      .getWeights()
      .some((w, i) => relativeErrors(w.dataSync(), weightsBefore[i] as Float32Array).max > 0);
    expect(moved).toBe(true);
    model.dispose();
  });
});
