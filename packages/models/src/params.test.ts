import { initBackend, tf } from '@fisherlab/engine';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  countTrainableParams,
  decayableVariables,
  fisherPenaltyVariables,
  type WeightRole,
  weightRoles,
} from './params.js';
import { createModel } from './registry.js';

let model: tf.LayersModel;
let byName: Map<string, WeightRole>;

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
  model = createModel({ arch: 'vgg11', inputShape: [32, 32, 3], numClasses: 10, seed: 0 });
  byName = new Map(weightRoles(model).map((r) => [r.name, r]));
});

describe('weight roles', () => {
  it('names weights by layer and weight, and classifies each one', () => {
    expect(byName.get('features.0/kernel')).toMatchObject({
      kind: 'kernel',
      layerClass: 'Conv2D',
      shape: [3, 3, 3, 64],
      decayable: true,
      fisherVisible: true,
    });
    expect(byName.get('features.0/bias')).toMatchObject({
      kind: 'bias',
      decayable: false,
      fisherVisible: true,
    });
    expect(byName.get('features.1/gamma')).toMatchObject({
      kind: 'batchNormGamma',
      decayable: false,
      fisherVisible: true,
    });
    expect(byName.get('features.1/beta')).toMatchObject({
      kind: 'batchNormBeta',
      decayable: false,
      fisherVisible: true,
    });
    expect(byName.get('features.1/moving_mean')).toMatchObject({
      kind: 'batchNormMovingStat',
      trainable: false,
      decayable: false,
      fisherVisible: false,
    });
    expect(byName.get('classifier/kernel')).toMatchObject({
      kind: 'kernel',
      layerClass: 'Dense',
      decayable: true,
    });
  });

  it('decay applies to the 8 conv kernels and the classifier kernel only', () => {
    const decayable = decayableVariables(model);
    expect(decayable).toHaveLength(9);
    const kernelSize = [64, 128, 256, 256, 512, 512, 512, 512].reduce(
      (sum, w, i, all) => sum + 9 * (i === 0 ? 3 : all[i - 1]!) * w,
      512 * 10,
    );
    expect(decayable.reduce((n, v) => n + v.size, 0)).toBe(kernelSize);
  });

  it('the Fisher penalty sees every trainable weight, or all but BatchNorm when asked', () => {
    const all = fisherPenaltyVariables(model);
    const trainable = model.trainableWeights.map((w) => w.read() as tf.Variable);
    expect(all.map((v) => v.name)).toEqual(trainable.map((v) => v.name));
    const noBn = fisherPenaltyVariables(model, { fisherExcludesBatchNorm: true });
    expect(noBn).toHaveLength(all.length - 16); // 8 BatchNorms × (γ, β)
    expect(noBn.reduce((n, v) => n + v.size, 0)).toBe(countTrainableParams(model) - 2 * 2752);
  });

  it('works on a user-built model with a nested Sequential', () => {
    const inner = tf.sequential({
      name: 'inner',
      layers: [
        tf.layers.dense({ inputShape: [4], units: 3, name: 'd1' }),
        tf.layers.batchNormalization({ name: 'n1' }),
      ],
    });
    const input = tf.input({ shape: [4] });
    const outer = tf.model({
      inputs: input,
      outputs: tf.layers.dense({ units: 2, name: 'head' }).apply(inner.apply(input)) as tf.SymbolicTensor,
    });
    const names = weightRoles(outer).map((r) => `${r.name}:${r.kind}:${r.decayable}`);
    expect(names).toEqual([
      'd1/kernel:kernel:true',
      'd1/bias:bias:false',
      'n1/gamma:batchNormGamma:false',
      'n1/beta:batchNormBeta:false',
      'n1/moving_mean:batchNormMovingStat:false',
      'n1/moving_variance:batchNormMovingStat:false',
      'head/kernel:kernel:true',
      'head/bias:bias:false',
    ]);
    expect(countTrainableParams(outer)).toBe(4 * 3 + 3 + 3 + 3 + 3 * 2 + 2);
    outer.dispose();
  });
});
