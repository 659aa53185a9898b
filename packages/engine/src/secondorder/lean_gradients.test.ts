import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend.js';
import { installGradients } from '../gradients/index.js';
import { softmaxCrossEntropy } from '../losses/softmax_cross_entropy.js';
import { leanGradientsAvailable, leanVariableGrads } from './lean_gradients.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
  installGradients();
});

/** A conv net with every layer kind the zoo trains through: conv, batch norm, relu, pooling, dense. */
function convNet(seed: number): tf.Sequential {
  const init = (s: number) => tf.initializers.glorotNormal({ seed: seed + s });
  return tf.sequential({
    layers: [
      tf.layers.conv2d({
        inputShape: [8, 8, 3],
        filters: 4,
        kernelSize: 3,
        padding: 'same',
        kernelInitializer: init(1),
      }),
      tf.layers.batchNormalization({ gammaInitializer: 'ones' }),
      tf.layers.activation({ activation: 'relu' }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.conv2d({
        filters: 6,
        kernelSize: 3,
        strides: 2,
        padding: 'valid',
        kernelInitializer: init(2),
      }),
      tf.layers.activation({ activation: 'tanh' }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 5, kernelInitializer: init(3) }),
    ],
  });
}

const variablesOf = (model: tf.LayersModel) => model.trainableWeights.map((w) => w.read() as tf.Variable);

function maxRelativeDifference(a: tf.NamedTensorMap, b: tf.NamedTensorMap): number {
  expect(Object.keys(a).sort()).toEqual(Object.keys(b).sort());
  let worst = 0;
  for (const name of Object.keys(a)) {
    const [x, y] = [a[name] as tf.Tensor, b[name] as tf.Tensor];
    const diff = tf.tidy(() => tf.norm(tf.sub(x, y)).dataSync()[0] as number);
    const scale = tf.tidy(() => tf.norm(y).dataSync()[0] as number);
    worst = Math.max(worst, diff / Math.max(scale, 1e-12));
  }
  return worst;
}

describe('leanVariableGrads', () => {
  const x = tf.randomNormal([6, 8, 8, 3], 0, 1, 'float32', 1);
  const labels = tf.tensor1d([0, 1, 2, 3, 4, 0], 'int32');

  it('uses the tape state of the pinned tfjs (no silent fallback to the stock pass)', () => {
    expect(leanGradientsAvailable()).toBe(true);
  });

  it('gives the stock gradients of a training loss (batch norm in training mode), leaking nothing', () => {
    const model = convNet(10);
    const vars = variablesOf(model);
    const loss = () => softmaxCrossEntropy(model.apply(x, { training: true }) as tf.Tensor2D, labels);
    const stock = tf.variableGrads(loss, vars);
    const before = tf.memory().numTensors;
    const lean = leanVariableGrads(loss, vars);
    // The value and one gradient per variable are all that remain.
    expect(tf.memory().numTensors - before).toBe(1 + vars.length);
    expect(lean.value.dataSync()[0]).toBeCloseTo(stock.value.dataSync()[0] as number, 6);
    expect(maxRelativeDifference(lean.grads, stock.grads)).toBeLessThan(1e-6);
    tf.dispose([lean.value, stock.value, ...Object.values(lean.grads), ...Object.values(stock.grads)]);
    model.dispose();
  });

  it('gives the stock second-order gradient when it differentiates a gradient (the penalty shape)', () => {
    const model = convNet(20);
    const vars = variablesOf(model);
    const squaredGradientNorm = (outer: typeof leanVariableGrads) =>
      outer(() => {
        const logits = model.apply(x, { training: true }) as tf.Tensor2D;
        const { grads } = tf.variableGrads(() => softmaxCrossEntropy(logits, labels), vars);
        return tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g)))) as tf.Scalar;
      }, vars);
    const stock = squaredGradientNorm(tf.variableGrads);
    const before = tf.memory().numTensors;
    const lean = squaredGradientNorm(leanVariableGrads);
    expect(tf.memory().numTensors - before).toBe(1 + vars.length);
    expect(maxRelativeDifference(lean.grads, stock.grads)).toBeLessThan(1e-5);
    tf.dispose([lean.value, stock.value, ...Object.values(lean.grads), ...Object.values(stock.grads)]);
    model.dispose();
  });

  it('frees nothing while an outer tape records it (an inner gradient stays differentiable)', () => {
    const w = tf.variable(tf.tensor1d([0.3, -0.7, 1.1]), true, 'lean-inner-w');
    // f(w) = Σ sin(w)², ∇f = sin(2w), Hessian diagonal 2cos(2w); ∇(∇f·∇f) = 2·diag(2cos 2w)·sin 2w.
    const { grads } = leanVariableGrads(() => {
      const inner = leanVariableGrads(() => tf.sum(tf.square(tf.sin(w))) as tf.Scalar, [w]);
      const g = inner.grads[w.name] as tf.Tensor;
      return tf.sum(tf.square(g)) as tf.Scalar;
    }, [w]);
    const values = Array.from(w.dataSync());
    const expected = values.map((v) => 4 * Math.cos(2 * v) * Math.sin(2 * v));
    const got = Array.from((grads[w.name] as tf.Tensor).dataSync());
    for (const [i, g] of got.entries()) expect(g).toBeCloseTo(expected[i] as number, 5);
    tf.dispose(Object.values(grads));
    w.dispose();
  });

  it('never disposes a tensor a gradient function hands back from elsewhere (dy itself, a closure tensor)', () => {
    const w = tf.variable(tf.tensor1d([1, 2, 3]), true, 'lean-alias-w');
    const fromClosure = tf.tensor1d([10, 20, 30]);
    // Identity whose gradient returns dy unchanged, then an op whose gradient is a fixed outside tensor.
    const passThrough = tf.customGrad(((a: tf.Tensor) => ({
      value: tf.clone(a),
      gradFunc: (dy: tf.Tensor) => dy,
    })) as Parameters<typeof tf.customGrad>[0]);
    const fixedGradient = tf.customGrad(((a: tf.Tensor) => ({
      value: tf.sum(a),
      gradFunc: () => fromClosure,
    })) as Parameters<typeof tf.customGrad>[0]);
    const { value, grads } = leanVariableGrads(
      () =>
        tf.add(fixedGradient(passThrough(w) as tf.Tensor), tf.sum(passThrough(w) as tf.Tensor)) as tf.Scalar,
      [w],
    );
    expect(Array.from((grads[w.name] as tf.Tensor).dataSync())).toEqual([11, 21, 31]);
    expect(fromClosure.isDisposed).toBe(false);
    expect(Array.from(fromClosure.dataSync())).toEqual([10, 20, 30]);
    tf.dispose([value, fromClosure, ...Object.values(grads)]);
    w.dispose();
  });

  it('holds less memory at its peak than the stock backward pass (conv, batch norm, pooling)', async () => {
    const model = convNet(30);
    const vars = variablesOf(model);
    const input = tf.randomNormal([64, 8, 8, 3], 0, 1, 'float32', 3);
    const targets = tf.zeros([64], 'int32') as tf.Tensor1D;
    const peakOf = async (grads: typeof leanVariableGrads) =>
      (
        await tf.profile(() => {
          const r = grads(
            () => softmaxCrossEntropy(model.apply(input, { training: true }) as tf.Tensor2D, targets),
            vars,
          );
          tf.dispose([r.value, ...Object.values(r.grads)]);
        })
      ).peakBytes;
    const stock = await peakOf(tf.variableGrads);
    const lean = await peakOf(leanVariableGrads);
    // Batch norm's backward makes several activation-sized tensors per layer; the stock pass keeps them all.
    expect(lean).toBeLessThan(0.75 * stock);
    tf.dispose([input, targets]);
    model.dispose();
  });

  it('fails like tfjs, naming the kernel, when an op on the path has no gradient', () => {
    const w = tf.variable(tf.tensor2d([[0.1, 0.2, 0.7]]), true, 'lean-missing-w');
    const f = () => tf.sum(tf.cast(tf.multinomial(w as tf.Tensor2D, 4, 7), 'float32')) as tf.Scalar;
    expect(() => tf.variableGrads(f, [w])).toThrow(/gradient function not found for Multinomial/);
    expect(() => leanVariableGrads(f, [w])).toThrow(/gradient function not found for Multinomial/);
    w.dispose();
  });
});
