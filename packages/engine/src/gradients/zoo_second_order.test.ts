import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend.js';
import {
  firstDirectionalOfModel,
  hessianVectorOfModel,
  type ModelCase,
  randomDirection,
} from './fixtures/model_checks.js';

/**
 * Every layer type of the model zoo, as a tiny tf.layers block with tanh and with relu, checked for
 * first and second directional derivatives of the mean cross-entropy w.r.t. all trainable weights
 * against central finite differences on the cpu backend (h = 1e-2, Richardson-extrapolated).
 * Smooth blocks (tanh, no max pooling) move along a random direction in all weights. Blocks with
 * kinks (relu, max pooling) move only the last layer's weights, so no relu mask or pooling argmax
 * changes within the step (with a few hundred units, some pre-activation is always within h of a
 * kink along a full direction); H v then still covers every weight through the mixed derivatives.
 */
beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

type Activation = 'tanh' | 'relu';
const CLASSES = 3;
const init = (seed: number) => tf.initializers.glorotUniform({ seed });

const blocks: Record<
  string,
  { image: boolean; build: (act: Activation) => tf.LayersModel; training: boolean; maxPool?: boolean }
> = {
  mlp: {
    image: false,
    training: true,
    build: (act) =>
      tf.sequential({
        layers: [
          tf.layers.dense({ inputShape: [5], units: 6, activation: act, kernelInitializer: init(1) }),
          tf.layers.dense({ units: CLASSES, kernelInitializer: init(2) }),
        ],
      }),
  },
  conv: {
    image: true,
    training: true,
    build: (act) =>
      tf.sequential({
        layers: [
          tf.layers.conv2d({
            inputShape: [6, 6, 2],
            filters: 3,
            kernelSize: 3,
            padding: 'same',
            activation: act,
            kernelInitializer: init(3),
          }),
          tf.layers.flatten(),
          tf.layers.dense({ units: CLASSES, kernelInitializer: init(4) }),
        ],
      }),
  },
  'strided conv': {
    image: true,
    training: true,
    build: (act) =>
      tf.sequential({
        layers: [
          tf.layers.conv2d({
            inputShape: [6, 6, 2],
            filters: 3,
            kernelSize: 3,
            strides: 2,
            padding: 'same',
            activation: act,
            kernelInitializer: init(5),
          }),
          tf.layers.flatten(),
          tf.layers.dense({ units: CLASSES, kernelInitializer: init(6) }),
        ],
      }),
  },
  'max pool': {
    image: true,
    training: true,
    maxPool: true,
    build: (act) =>
      tf.sequential({
        layers: [
          tf.layers.conv2d({
            inputShape: [6, 6, 2],
            filters: 3,
            kernelSize: 3,
            padding: 'same',
            activation: act,
            kernelInitializer: init(7),
          }),
          tf.layers.maxPooling2d({ poolSize: 2 }),
          tf.layers.flatten(),
          tf.layers.dense({ units: CLASSES, kernelInitializer: init(8) }),
        ],
      }),
  },
  'avg pool': {
    image: true,
    training: true,
    build: (act) =>
      tf.sequential({
        layers: [
          tf.layers.conv2d({
            inputShape: [6, 6, 2],
            filters: 3,
            kernelSize: 3,
            padding: 'same',
            activation: act,
            kernelInitializer: init(9),
          }),
          tf.layers.averagePooling2d({ poolSize: 2 }),
          tf.layers.flatten(),
          tf.layers.dense({ units: CLASSES, kernelInitializer: init(10) }),
        ],
      }),
  },
  'batch norm (training mode) + global avg pool': {
    image: true,
    training: true,
    build: (act) =>
      tf.sequential({
        layers: [
          tf.layers.conv2d({
            inputShape: [6, 6, 2],
            filters: 4,
            kernelSize: 3,
            padding: 'same',
            kernelInitializer: init(11),
          }),
          tf.layers.batchNormalization({
            gammaInitializer: tf.initializers.randomUniform({ minval: 0.5, maxval: 1.5, seed: 12 }),
          }),
          tf.layers.activation({ activation: act }),
          tf.layers.globalAveragePooling2d({}),
          tf.layers.dense({ units: CLASSES, kernelInitializer: init(13) }),
        ],
      }),
  },
  'batch norm (inference mode)': {
    image: true,
    training: false,
    build: (act) =>
      tf.sequential({
        layers: [
          tf.layers.conv2d({
            inputShape: [6, 6, 2],
            filters: 4,
            kernelSize: 3,
            padding: 'same',
            kernelInitializer: init(14),
          }),
          tf.layers.batchNormalization({
            movingVarianceInitializer: tf.initializers.constant({ value: 0.5 }),
          }),
          tf.layers.activation({ activation: act }),
          tf.layers.flatten(),
          tf.layers.dense({ units: CLASSES, kernelInitializer: init(15) }),
        ],
      }),
  },
  'dense batch norm + seeded dropout (training mode)': {
    image: false,
    training: true,
    build: (act) =>
      tf.sequential({
        layers: [
          tf.layers.dense({ inputShape: [5], units: 6, kernelInitializer: init(16) }),
          tf.layers.batchNormalization(),
          tf.layers.activation({ activation: act }),
          tf.layers.dropout({ rate: 0.3, seed: 17 }),
          tf.layers.dense({ units: CLASSES, kernelInitializer: init(18) }),
        ],
      }),
  },
  'residual add + concat (functional)': {
    image: true,
    training: true,
    build: (act) => {
      const input = tf.input({ shape: [6, 6, 2] });
      const a = tf.layers
        .conv2d({ filters: 2, kernelSize: 3, padding: 'same', activation: act, kernelInitializer: init(19) })
        .apply(input) as tf.SymbolicTensor;
      const sum = tf.layers.add().apply([a, input]) as tf.SymbolicTensor;
      const b = tf.layers
        .conv2d({ filters: 2, kernelSize: 1, activation: act, kernelInitializer: init(20) })
        .apply(sum) as tf.SymbolicTensor;
      const joined = tf.layers.concatenate().apply([sum, b]) as tf.SymbolicTensor;
      const pooled = tf.layers.globalAveragePooling2d({}).apply(joined) as tf.SymbolicTensor;
      const out = tf.layers
        .dense({ units: CLASSES, kernelInitializer: init(21) })
        .apply(pooled) as tf.SymbolicTensor;
      return tf.model({ inputs: input, outputs: out });
    },
  },
};

describe('first and second derivatives through every zoo layer type match finite differences', () => {
  for (const [name, block] of Object.entries(blocks)) {
    for (const act of ['tanh', 'relu'] as const) {
      it(`${name}, ${act}`, () => {
        const model = block.build(act);
        const x = block.image
          ? tf.randomNormal([4, 6, 6, 2], 0, 1, 'float32', 100)
          : tf.randomNormal([4, 5], 0, 1, 'float32', 100);
        const c: ModelCase = {
          model,
          x,
          labels: tf.tensor1d([0, 2, 1, 2], 'int32'),
          training: block.training,
        };
        const v = randomDirection(model, 200, act === 'relu' || block.maxPool === true);
        const first = firstDirectionalOfModel(c, v, 1e-2);
        const second = hessianVectorOfModel(c, v, 1e-2);
        // One scalar difference of float32 losses: roundoff alone is ~1e-5 relative.
        expect(first.relativeError).toBeLessThan(1e-3);
        expect(second.norm).toBeGreaterThan(1e-3);
        expect(second.relativeError).toBeLessThan(1e-3);
        tf.dispose([x, ...v]);
        model.dispose();
      });
    }
  }
});
