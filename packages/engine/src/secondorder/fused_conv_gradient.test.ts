import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend.js';
import { loadNativeAddon } from '../kernels/native/addon.js';
import { registerNativeKernels, unregisterNativeKernels } from '../kernels/native/index.js';
import { softmaxCrossEntropy } from '../losses/softmax_cross_entropy.js';
import { leanVariableGrads } from './lean_gradients.js';

/**
 * The backward walk skips the input gradient of a fused conv on the data (see
 * fused_conv_gradient.ts): the gradients must be the stock ones, first and second order, on the
 * wasm tier and the native tier, with one Conv2DBackpropInput fewer per pass.
 */
const load = loadNativeAddon();
const tiers: ('wasm' | 'native')[] = ['wasm', ...('addon' in load ? (['native'] as const) : [])];

async function useTier(tier: 'wasm' | 'native'): Promise<void> {
  await initBackend({ backend: 'wasm', native: 'off' });
  if (tier === 'native' && 'addon' in load) registerNativeKernels(load.addon);
  else unregisterNativeKernels();
}

afterAll(() => unregisterNativeKernels());

/** First conv on the data with a bias ('same'), a strided 'valid' one, a bias-free one, dense. */
function convNet(): tf.Sequential {
  const init = (s: number) => tf.initializers.glorotNormal({ seed: s });
  return tf.sequential({
    layers: [
      tf.layers.conv2d({
        inputShape: [9, 9, 3],
        filters: 4,
        kernelSize: 3,
        padding: 'same',
        kernelInitializer: init(1),
      }),
      tf.layers.activation({ activation: 'relu' }),
      tf.layers.conv2d({
        filters: 5,
        kernelSize: 3,
        strides: 2,
        kernelInitializer: init(2),
        biasInitializer: init(3),
      }),
      tf.layers.activation({ activation: 'tanh' }),
      tf.layers.conv2d({ filters: 3, kernelSize: 1, useBias: false, kernelInitializer: init(4) }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 4, kernelInitializer: init(5) }),
    ],
  });
}

function maxRelativeDifference(a: tf.NamedTensorMap, b: tf.NamedTensorMap): number {
  expect(Object.keys(a).sort()).toEqual(Object.keys(b).sort());
  let worst = 0;
  for (const name of Object.keys(a)) {
    const x = a[name]!.dataSync();
    const y = b[name]!.dataSync();
    const scale = Math.max(...Array.from(y, Math.abs), 1e-12);
    for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i]! - y[i]!) / scale);
  }
  return worst;
}

async function countKernel(name: string, f: () => void): Promise<number> {
  const info = await tf.profile(f);
  return info.kernels.filter((k) => k.name === name).length;
}

describe.each(tiers)('fused conv gradients without the data gradient (%s tier)', (tier) => {
  const x = tf.randomNormal([5, 9, 9, 3], 0, 1, 'float32', 7);
  const labels = tf.tensor1d([0, 1, 2, 3, 1], 'int32');

  it('equal the stock gradients and skip one Conv2DBackpropInput', async () => {
    await useTier(tier);
    const model = convNet();
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const loss = () => softmaxCrossEntropy(model.apply(x, { training: true }) as tf.Tensor2D, labels);
    const stock = tf.variableGrads(loss, vars);
    const lean = leanVariableGrads(loss, vars);
    expect(maxRelativeDifference(lean.grads, stock.grads)).toBeLessThan(1e-6);
    const stockCalls = await countKernel(tf.Conv2DBackpropInput, () => {
      const r = tf.variableGrads(loss, vars);
      tf.dispose([r.value, ...Object.values(r.grads)]);
    });
    const leanCalls = await countKernel(tf.Conv2DBackpropInput, () => {
      const r = leanVariableGrads(loss, vars);
      tf.dispose([r.value, ...Object.values(r.grads)]);
    });
    expect(stockCalls).toBe(3);
    expect(leanCalls).toBe(2);
    tf.dispose([lean.value, stock.value, ...Object.values(lean.grads), ...Object.values(stock.grads)]);
    model.dispose();
  });

  it('equal the stock second-order gradient of ‖∇L‖² (the penalty shape)', async () => {
    await useTier(tier);
    const model = convNet();
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const squaredGradientNorm = (grads: typeof leanVariableGrads) =>
      grads(() => {
        const logits = model.apply(x, { training: true }) as tf.Tensor2D;
        const inner = grads(() => softmaxCrossEntropy(logits, labels), vars);
        return tf.addN(Object.values(inner.grads).map((g) => tf.sum(tf.square(g)))) as tf.Scalar;
      }, vars);
    const stock = squaredGradientNorm(tf.variableGrads);
    const lean = squaredGradientNorm(leanVariableGrads);
    expect(maxRelativeDifference(lean.grads, stock.grads)).toBeLessThan(1e-5);
    tf.dispose([lean.value, stock.value, ...Object.values(lean.grads), ...Object.values(stock.grads)]);
    model.dispose();
  });
});
