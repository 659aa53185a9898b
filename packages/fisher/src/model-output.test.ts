import { initBackend, tf } from '@fisherlab/engine';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  checkFiniteDifferenceHvp,
  estimateFisherTrace,
  FisherPenalty,
  finiteDifferenceHvp,
  fisherDiagonal,
  fisherOperator,
  GGNOperator,
  HessianOperator,
  hessianVectorProduct,
  hutchinsonHessianTrace,
  lossGradient,
  ModelWalker,
  penaltyValueAndGradient,
  perExampleSquaredGradNormsByLoop,
  topHessianEigenvalue,
} from './index.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

const hidden = () => tf.layers.dense({ units: 4, activation: 'relu' });

/** Four ways a model ends in probabilities; FisherLab must refuse each, everywhere. */
const probabilityModels: [string, () => tf.LayersModel][] = [
  [
    "a Dense layer with activation 'softmax'",
    () =>
      tf.sequential({
        layers: [
          tf.layers.dense({ inputShape: [3], units: 4 }),
          tf.layers.dense({ units: 2, activation: 'softmax' }),
        ],
      }),
  ],
  [
    'a Softmax layer (tf.layers.softmax())',
    () =>
      tf.sequential({
        layers: [
          tf.layers.dense({ inputShape: [3], units: 4 }),
          tf.layers.dense({ units: 2 }),
          tf.layers.softmax(),
        ],
      }),
  ],
  [
    "a functional model ending in an Activation layer 'softmax'",
    () => {
      const input = tf.input({ shape: [3] });
      const logits = tf.layers.dense({ units: 2 }).apply(hidden().apply(input)) as tf.SymbolicTensor;
      const output = tf.layers.activation({ activation: 'softmax' }).apply(logits) as tf.SymbolicTensor;
      return tf.model({ inputs: input, outputs: output });
    },
  ],
  [
    'a nested model whose output is a softmax',
    () => {
      const inner = tf.sequential({
        layers: [tf.layers.dense({ inputShape: [4], units: 2 }), tf.layers.softmax()],
      });
      return tf.sequential({ layers: [tf.layers.dense({ inputShape: [3], units: 4 }), inner] });
    },
  ],
];

const batch = () => ({
  x: tf.randomNormal([5, 3], 0, 1, 'float32', 1),
  labels: tf.tensor1d([0, 1, 0, 1, 1], 'int32'),
});
const zerosLike = (model: tf.LayersModel) => model.trainableWeights.map((w) => tf.zeros(w.shape as number[]));

/** Every public function that takes a model, called the way a user would. */
const entryPoints: [string, (model: tf.LayersModel) => unknown][] = [
  ['estimateFisherTrace', (m) => estimateFisherTrace(m, batch(), { estimator: 'mc' })],
  [
    'FisherPenalty.step',
    (m) => new FisherPenalty({ kind: 'fisher', alpha: 0.1 }).step(m, batch().x, batch().labels, 0),
  ],
  ['penaltyValueAndGradient', (m) => penaltyValueAndGradient(m, batch().x, batch().labels)],
  ['hessianVectorProduct', (m) => hessianVectorProduct(m, batch(), zerosLike(m))],
  ['lossGradient', (m) => lossGradient(m, batch())],
  ['finiteDifferenceHvp', (m) => finiteDifferenceHvp(m, batch(), zerosLike(m))],
  ['checkFiniteDifferenceHvp', (m) => checkFiniteDifferenceHvp(m, batch())],
  ['HessianOperator', (m) => new HessianOperator(m, [batch()])],
  ['GGNOperator', (m) => new GGNOperator(m, [batch()])],
  ['fisherOperator', (m) => fisherOperator(m, [batch()], { type: 'mc' })],
  ['fisherDiagonal', (m) => fisherDiagonal(m, [batch()])],
  ['hutchinsonHessianTrace', (m) => hutchinsonHessianTrace(m, batch(), { probes: 2 })],
  ['topHessianEigenvalue', (m) => topHessianEigenvalue(m, batch())],
  ['ModelWalker', (m) => new ModelWalker(m)],
  [
    'perExampleSquaredGradNormsByLoop',
    (m) => perExampleSquaredGradNormsByLoop(m, batch().x, new Int32Array(5)),
  ],
];

describe('every public estimator and penalty refuses a model that outputs probabilities', () => {
  for (const [modelName, build] of probabilityModels) {
    for (const [entry, call] of entryPoints) {
      it(`${entry}: ${modelName}`, () => {
        const model = build();
        expect(() => call(model)).toThrow(
          new RegExp(
            `^${entry.replace('.', '\\.')}: model '.*': expected logits .*, found probabilities \\(its output layer '.*' applies a softmax\\).*activation 'linear'`,
          ),
        );
        model.dispose();
      });
    }
  }

  it('accepts a model that outputs logits', () => {
    const model = tf.sequential({
      layers: [tf.layers.dense({ inputShape: [3], units: 4 }), tf.layers.dense({ units: 2 })],
    });
    const data = batch();
    const exact = estimateFisherTrace(model, data, { estimator: 'exact' });
    expect(exact.value).toBeGreaterThan(0);
    const step = new FisherPenalty({ kind: 'fisher', alpha: 0.1 }).step(model, data.x, data.labels, 0);
    expect(step.penalty).toBeGreaterThan(0);
    tf.dispose(step.grads);
  });

  it('names the input/output problem for a model with two outputs', () => {
    const input = tf.input({ shape: [3] });
    const a = tf.layers.dense({ units: 2 }).apply(input) as tf.SymbolicTensor;
    const b = tf.layers.dense({ units: 2 }).apply(input) as tf.SymbolicTensor;
    expect(() =>
      new FisherPenalty({ kind: 'fisher', alpha: 0.1 }).step(
        tf.model({ inputs: input, outputs: [a, b] }),
        batch().x,
        batch().labels,
        0,
      ),
    ).toThrow(
      /^FisherPenalty\.step: model '.*': expected one input mapped to one output of shape \[batch, classes\] \(logits\), found 1 input\(s\) and output\(s\) \[,2\], \[,2\]/,
    );
  });
});
