import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { installGradients } from '../gradients/index.js';
import { nativeAddonForTests, skipNote, useTier } from '../kernels/native/fixtures/native-tier.js';
import { relativeErrors } from '../kernels/wasm/fixtures/against-cpu.js';
import { softmaxCrossEntropy } from '../losses/softmax_cross_entropy.js';
import { leanVariableGrads } from '../secondorder/lean_gradients.js';
import { batchNormalizationRouted, routeBatchNormalization } from './batch_normalization.js';

/**
 * A user's functional LayersModel with batch norm (conv, BN, relu, a residual add, BN on a dense
 * layer's [batch, units] output) on the native backend, its BatchNormalization layers routed to the
 * fused kernels against tfjs's own layer code (routing off), same weights and batch: the training
 * step's gradients, the running averages it leaves, a Hessian-vector product, and inference.
 */

const L = tf.layers;

function residualModel(): tf.LayersModel {
  const input = L.input({ shape: [8, 8, 3] });
  const init = (seed: number) => tf.initializers.glorotNormal({ seed });
  const conv = (filters: number, seed: number) =>
    L.conv2d({ filters, kernelSize: 3, padding: 'same', useBias: false, kernelInitializer: init(seed) });
  const stem = L.activation({ activation: 'relu' }).apply(
    L.batchNormalization({ momentum: 0.9, epsilon: 1e-5 }).apply(conv(6, 1).apply(input)),
  ) as tf.SymbolicTensor;
  const branch = L.batchNormalization({ gammaInitializer: 'randomNormal' }).apply(
    conv(6, 2).apply(stem),
  ) as tf.SymbolicTensor;
  const sum = L.activation({ activation: 'relu' }).apply(L.add().apply([stem, branch])) as tf.SymbolicTensor;
  const pooled = L.globalAveragePooling2d({}).apply(sum) as tf.SymbolicTensor;
  const hidden = L.batchNormalization().apply(
    L.dense({ units: 7, kernelInitializer: init(3) }).apply(pooled),
  ) as tf.SymbolicTensor;
  const logits = L.dense({ units: 4, kernelInitializer: init(4) }).apply(hidden) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: logits });
}

function flat(tensors: tf.Tensor[]): Float32Array {
  return tf.concat(tensors.map((t) => tf.reshape(t, [-1]))).dataSync() as Float32Array;
}

interface Step {
  grads: Float32Array;
  moving: Float32Array;
  hvp: Float32Array;
  inference: Float32Array;
}

/** One training step's gradients (lean walk) and running averages, then H·v, from the same weights. */
function step(model: tf.LayersModel, weights: tf.Tensor[], x: tf.Tensor, labels: tf.Tensor1D): Step {
  model.setWeights(weights);
  return tf.tidy(() => {
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const loss = () => softmaxCrossEntropy(model.apply(x, { training: true }) as tf.Tensor2D, labels);
    const { grads } = leanVariableGrads(loss, vars);
    const moving = flat(model.weights.filter((w) => /moving/.test(w.name)).map((w) => w.read()));
    const v = vars.map((w, i) => tf.randomUniform(w.shape, -1, 1, 'float32', 60 + i));
    const gradDotV = (): tf.Scalar => {
      const { grads: inner } = leanVariableGrads(loss, vars);
      return tf.addN(
        vars.map((w, i) => tf.sum(tf.mul(inner[w.name] as tf.Tensor, v[i] as tf.Tensor))),
      ) as tf.Scalar;
    };
    const { grads: hv } = leanVariableGrads(gradDotV, vars);
    return {
      grads: flat(vars.map((w) => grads[w.name] as tf.Tensor)),
      moving,
      hvp: flat(vars.map((w) => hv[w.name] as tf.Tensor)),
      inference: (model.predict(x) as tf.Tensor).dataSync() as Float32Array,
    };
  });
}

afterEach(() => {
  routeBatchNormalization(true);
  vi.restoreAllMocks();
});

describe.skipIf(!nativeAddonForTests)(`BatchNormalization routed to the fused kernels${skipNote}`, () => {
  it('a user model’s training step, running averages and H·v match tfjs’s own layer code', async () => {
    installGradients();
    await useTier('native-backend');
    expect(batchNormalizationRouted()).toBe(true);
    const model = residualModel();
    const x = tf.randomNormal([6, 8, 8, 3], 0.5, 1.5, 'float32', 11);
    const labels = tf.tensor1d([0, 1, 2, 3, 1, 2], 'int32');
    model.predict(x);
    const weights = model.getWeights().map((w) => w.clone());

    routeBatchNormalization(false);
    const stock = step(model, weights, x, labels);
    routeBatchNormalization(true);
    const fusedForward = vi.spyOn(nativeAddonForTests!, 'batchNormTraining');
    const fusedSecond = vi.spyOn(nativeAddonForTests!, 'batchNormTrainingGradGrad');
    const before = tf.memory().numTensors;
    const fused = step(model, weights, x, labels);
    expect(tf.memory().numTensors).toBe(before);
    // Three layers, run by the step (once) and by H·v (twice: outer and inner forward of gradDotV,
    // which is one forward recorded once); each H·v differentiates the three backward kernels.
    expect(fusedForward.mock.calls.length).toBeGreaterThanOrEqual(6);
    expect(fusedSecond.mock.calls.length).toBe(3);

    expect(relativeErrors(fused.grads, stock.grads).l2).toBeLessThan(1e-4);
    expect(relativeErrors(fused.moving, stock.moving).max).toBeLessThan(1e-5);
    expect(relativeErrors(fused.hvp, stock.hvp).l2).toBeLessThan(1e-3);
    // Inference normalizes with the running averages, which agree to 1e-5 (above), not always bit for
    // bit: equal when this file runs alone, 1e-7 apart after some other test files in the same worker
    // (with every native build tried, the one CI last passed on included).
    expect(relativeErrors(fused.inference, stock.inference).max).toBeLessThan(1e-5);
    tf.dispose([x, labels, ...weights]);
    model.dispose();
  });

  it('leaves inference, other backends and other axes to tfjs’s code', async () => {
    installGradients();
    const spy = vi.spyOn(nativeAddonForTests!, 'batchNormTraining');
    await useTier('cpu');
    const onCpu = L.batchNormalization();
    tf.tidy(() => onCpu.apply(tf.ones([2, 3]), { training: true }) as tf.Tensor);
    await useTier('native-backend');
    const channelsFirst = L.batchNormalization({ axis: 1 });
    tf.tidy(() => channelsFirst.apply(tf.ones([2, 3, 4]), { training: true }) as tf.Tensor);
    tf.tidy(() => L.batchNormalization().apply(tf.ones([2, 3]), { training: false }) as tf.Tensor);
    expect(spy).not.toHaveBeenCalled();
    tf.tidy(() => L.batchNormalization().apply(tf.ones([2, 3]), { training: true }) as tf.Tensor);
    expect(spy).toHaveBeenCalledTimes(1);
  });
});
