import { initBackend, tf } from '@fisherlab/engine';
import { beforeAll, describe, expect, it } from 'vitest';
import { estimateFisherTrace } from './estimate.js';
import { batchNormConvNet, randomImages, residualConvNet, smallConvNet } from './fixtures/models.js';
import { perExampleSquaredGradNorms, perExampleSquaredGradNormsByLoop } from './per-example.js';
import { ModelWalker } from './walker.js';

/** The estimators on the wasm backend (with FisherLab's training kernels) against the cpu backend. */
beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});

describe('Tr(F) on wasm', () => {
  const cases: [string, () => tf.LayersModel, number[]][] = [
    ['conv + relu + maxpool', () => smallConvNet(2), [6, 8, 8, 3]],
    ['conv + batch norm', () => batchNormConvNet(2), [6, 6, 6, 2]],
    // No depthwise branch: wasm has no DepthwiseConv2dNativeBackpropInput kernel (tfjs 4.22).
    ['functional residual', () => residualConvNet(2, 'conv'), [6, 6, 6, 2]],
  ];
  for (const [name, build, shape] of cases) {
    it(`one-pass norms on wasm equal the per-example loop on cpu: ${name}`, async () => {
      await tf.setBackend('wasm');
      const model = build();
      const x = randomImages(shape, 4);
      const labels = Int32Array.from({ length: shape[0]! }, (_, i) => i % 4);
      const onWasm = perExampleSquaredGradNorms(new ModelWalker(model), x, labels);
      const exactOnWasm = estimateFisherTrace(model, { x }, { estimator: 'exact' });
      await tf.setBackend('cpu');
      const onCpu = perExampleSquaredGradNormsByLoop(model, x, labels);
      const exactOnCpu = estimateFisherTrace(model, { x }, { estimator: 'exact' });
      for (const [layer, expected] of onCpu) {
        const actual = onWasm.perLayer.get(layer)!;
        expected.forEach((e, i) => {
          expect(Math.abs(actual[i]! - e)).toBeLessThanOrEqual(1e-4 * Math.max(1, e));
        });
      }
      expect(Math.abs(exactOnWasm.value - exactOnCpu.value)).toBeLessThan(1e-4 * exactOnCpu.value);
      x.dispose();
      model.dispose();
    });
  }
});
