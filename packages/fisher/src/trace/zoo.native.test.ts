import { initBackend, tf } from '@fisherlab/engine';
import { createModel, type ModelSpec } from '@fisherlab/models';
import { beforeAll, describe, expect, it } from 'vitest';
import { perExampleSquaredGradNorms, perExampleSquaredGradNormsByLoop } from './per-example.js';
import { ModelWalker } from './walker.js';

// The native backend (oneDNN kernels, the per-example filter-norm kernel, native element-wise ops);
// skipped, saying why, where the addon is not built.
const unavailable = await initBackend({ backend: 'native' }).then(
  () => undefined,
  (error: Error) => error.message,
);
beforeAll(async () => {
  if (!unavailable) await initBackend({ backend: 'native' });
});

/** Every architecture of the model zoo (narrowed where it can be): the walker covers all of it with cells. */
const SPECS: ModelSpec[] = [
  { arch: 'mlp', inputShape: [4, 4, 1], numClasses: 3, seed: 1 },
  { arch: 'simplecnn', inputShape: [8, 8, 1], numClasses: 3, seed: 1, filters: [3, 4], hiddenUnits: 5 },
  { arch: 'vgg11', inputShape: [32, 32, 3], numClasses: 3, seed: 1, batchNorm: true },
  { arch: 'resnet18', inputShape: [8, 8, 3], numClasses: 3, seed: 1 },
  { arch: 'wrn', inputShape: [8, 8, 3], numClasses: 3, seed: 1, depth: 10, width: 1 },
  { arch: 'densenet', inputShape: [8, 8, 3], numClasses: 3, seed: 1, depth: 10, growthRate: 3 },
];

describe.skipIf(unavailable !== undefined)(
  `the model zoo through the walker on the native backend${unavailable ? ` (skipped: ${unavailable})` : ''}`,
  () => {
    for (const spec of SPECS) {
      it(`${spec.arch}: same logits as predict, no layer left to the loop, one-pass norms equal the loop's`, () => {
        const model = createModel(spec);
        const walker = new ModelWalker(model);
        expect(walker.untappedTrainableLayers.map((l) => l.name)).toEqual([]);
        const x = tf.randomNormal([2, ...spec.inputShape], 0, 1, 'float32', 3);
        const walked = tf.tidy(() => walker.forward(x));
        const predicted = model.predict(x) as tf.Tensor;
        expect(tf.tidy(() => tf.max(tf.abs(tf.sub(walked, predicted))).dataSync()[0]!)).toBeLessThan(1e-4);
        const labels = new Int32Array([0, 2]);
        const onePass = perExampleSquaredGradNorms(walker, x, labels);
        const loop = perExampleSquaredGradNormsByLoop(model, x, labels);
        for (const [layer, expected] of loop) {
          const actual = onePass.perLayer.get(layer)!;
          expected.forEach((e, i) => {
            expect(Math.abs(actual[i]! - e)).toBeLessThanOrEqual(1e-4 * Math.max(1, e));
          });
        }
        tf.dispose([x, walked, predicted]);
        model.dispose();
      });
    }
  },
);
