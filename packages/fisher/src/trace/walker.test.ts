import { tf } from '@fisherlab/engine';
import { beforeAll, describe, expect, it } from 'vitest';
import { batchNormConvNet, randomImages, residualConvNet, smallConvNet } from './fixtures/models.js';
import { ModelWalker } from './walker.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const maxAbsDiff = (a: tf.Tensor, b: tf.Tensor): number =>
  tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);

describe('ModelWalker', () => {
  const cases: [string, () => tf.LayersModel, number[], string[]][] = [
    ['sequential conv net', () => smallConvNet(), [5, 8, 8, 3], ['Conv2D', 'Conv2D', 'Dense', 'Dense']],
    [
      'sequential with batch norm',
      () => batchNormConvNet(),
      [5, 6, 6, 2],
      ['Conv2D', 'BatchNormalization', 'Dense'],
    ],
    [
      'functional residual with add and concat',
      () => residualConvNet(),
      [5, 6, 6, 2],
      ['Conv2D', 'BatchNormalization', 'Conv2D', 'Dense'],
    ],
  ];
  for (const [name, build, shape, tappedKinds] of cases) {
    it(`gives model.predict's logits layer by layer: ${name}`, () => {
      const model = build();
      const walker = new ModelWalker(model);
      expect(walker.tapped.map((t) => t.cell.className)).toEqual(tappedKinds);
      const x = randomImages(shape, 3);
      const before = tf.memory().numTensors;
      const walked = tf.tidy(() => walker.forward(x));
      const predicted = model.predict(x) as tf.Tensor;
      expect(walked.shape).toEqual(predicted.shape);
      expect(maxAbsDiff(walked, predicted)).toBeLessThan(1e-5);
      tf.dispose([walked, predicted]);
      expect(tf.memory().numTensors).toBe(before);
      x.dispose();
    });
  }

  it('sends a layer it has no cell for (depthwise conv) to the per-example fallback', () => {
    const walker = new ModelWalker(residualConvNet());
    expect(walker.untappedTrainableLayers.map((l) => l.getClassName())).toEqual(['DepthwiseConv2D']);
  });

  it('rejects a model that outputs probabilities instead of logits', () => {
    const model = tf.sequential({
      layers: [tf.layers.dense({ inputShape: [3], units: 2, activation: 'softmax' })],
    });
    expect(() => new ModelWalker(model)).toThrow(
      /expected logits \(the Fisher code applies the softmax itself\), found probabilities \(its output layer '.*' applies a softmax\)/,
    );
  });

  it('rejects a model with two outputs, saying what to do', () => {
    const input = tf.input({ shape: [3] });
    const a = tf.layers.dense({ units: 2 }).apply(input) as tf.SymbolicTensor;
    const b = tf.layers.dense({ units: 2 }).apply(input) as tf.SymbolicTensor;
    expect(() => new ModelWalker(tf.model({ inputs: input, outputs: [a, b] }))).toThrow(
      /expected one input mapped to one output of shape \[batch, classes\] \(logits\), found 1 input\(s\) and output\(s\) \[,2\], \[,2\]\. Fix: wrap it/,
    );
  });
});
