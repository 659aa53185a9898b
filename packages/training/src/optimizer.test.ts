import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { initBackend, tf } from '@fisherlab/engine';
import { loadCheckpointModel, saveCheckpointModel } from '@fisherlab/models';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Optimizer, type OptimizerSettings } from './optimizer.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

const root = mkdtempSync(path.join(tmpdir(), 'fisherlab-optimizer-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

// Three steps on a kernel [3, 1] (weight decay 0.01 applies) and a bias [1] (no decay), with the
// learning rate changed between steps, as a schedule does.
const KERNEL_GRADS = [
  [0.3, -0.2, 0.1],
  [-0.1, 0.4, 0.25],
  [0.05, 0.05, -0.3],
];
const BIAS_GRADS = [[0.2], [-0.1], [0.3]];
const LEARNING_RATES = [0.1, 0.05, 0.02];

/**
 * The weights after each step as PyTorch 1.13 computes them (float64): torch.optim.SGD / Adam with
 * param groups [{kernel, weight_decay: 0.01}, {bias, weight_decay: 0}], group['lr'] set before each
 * step, p.grad set to the gradients above. Not recomputed here: they are the reference.
 */
const PYTORCH: Record<string, { kernel: number[]; bias: number[] }[]> = {
  sgd: [
    { kernel: [0.4695, -0.979, 1.988], bias: [0.08] },
    { kernel: [0.47426525, -0.9985105, 1.974506], bias: [0.085] },
    { kernel: [0.47317039695, -0.9993107979, 1.9801110988], bias: [0.079] },
  ],
  momentum: [
    { kernel: [0.4695, -0.979, 1.988], bias: [0.08] },
    { kernel: [0.46054025, -0.9890605, 1.969106], bias: [0.076] },
    { kernel: [0.45622263195, -0.9934844679, 1.9679103388], bias: [0.06856] },
  ],
  nesterov: [
    { kernel: [0.44205, -0.9601, 1.9772], bias: [0.062] },
    { kernel: [0.4387775525, -0.988682905, 1.94671166], bias: [0.0634] },
    { kernel: [0.43381230493, -0.993469869296, 1.951252003169], bias: [0.050704] },
  ],
  adam: [
    { kernel: [0.400000003279, -0.900000004762, 1.900000008333], bias: [5e-9] },
    { kernel: [0.379219975633, -0.916935995492, 1.852374689197], bias: [-0.013316846141] },
    { kernel: [0.370762416687, -0.923321724102, 1.850560836924], bias: [-0.026023249219] },
  ],
};

const SETTINGS: Record<string, OptimizerSettings> = {
  sgd: { name: 'sgd', momentum: 0, nesterov: false, weightDecay: 0.01 },
  momentum: { name: 'sgd', momentum: 0.9, nesterov: false, weightDecay: 0.01 },
  nesterov: { name: 'sgd', momentum: 0.9, nesterov: true, weightDecay: 0.01 },
  adam: { name: 'adam', momentum: 0, nesterov: false, weightDecay: 0.01 },
};

function denseModel(): tf.LayersModel {
  const model = tf.sequential({
    layers: [tf.layers.dense({ inputShape: [3], units: 1, name: 'dense' })],
  });
  model.setWeights([tf.tensor2d([[0.5], [-1], [2]]), tf.tensor1d([0.1])]);
  return model;
}

function step(optimizer: Optimizer, model: tf.LayersModel, index: number): void {
  const [kernel, bias] = model.trainableWeights.map((w) => (w.read() as tf.Variable).name) as [
    string,
    string,
  ];
  const grads = {
    [kernel]: tf.tensor2d(KERNEL_GRADS[index]!, [3, 1]),
    [bias]: tf.tensor1d(BIAS_GRADS[index]!),
  };
  optimizer.apply(model.trainableWeights, grads, LEARNING_RATES[index]!);
  tf.dispose(Object.values(grads));
}

const values = (model: tf.LayersModel) => ({
  kernel: Array.from(model.getWeights()[0]!.dataSync()),
  bias: Array.from(model.getWeights()[1]!.dataSync()),
});

const decayableKernel = (model: tf.LayersModel) =>
  new Set([(model.trainableWeights[0]!.read() as tf.Variable).name]);

describe('Optimizer against PyTorch', () => {
  for (const [name, expected] of Object.entries(PYTORCH)) {
    it(`${name}: three steps with a changing learning rate match torch.optim to float32 precision`, () => {
      const model = denseModel();
      const optimizer = new Optimizer(SETTINGS[name]!, decayableKernel(model));
      for (let i = 0; i < 3; i++) {
        step(optimizer, model, i);
        const got = values(model);
        for (const key of ['kernel', 'bias'] as const) {
          got[key].forEach((v, j) => {
            expect(v).toBeCloseTo(expected[i]![key][j]!, 6);
          });
        }
      }
      expect(optimizer.step).toBe(3);
      optimizer.dispose();
      model.dispose();
    });
  }
});

describe('Optimizer state', () => {
  for (const name of ['nesterov', 'adam']) {
    it(`${name}: saved with the model in one checkpoint and restored in a new optimizer, the next step is the same`, async () => {
      const model = denseModel();
      const optimizer = new Optimizer(SETTINGS[name]!, decayableKernel(model));
      step(optimizer, model, 0);
      step(optimizer, model, 1);
      const dir = path.join(root, name);
      await saveCheckpointModel(dir, model, { optimizer: optimizer.snapshot() });
      step(optimizer, model, 2);

      const loaded = await loadCheckpointModel(dir);
      expect(loaded.optimizer).toBeUndefined(); // not a tfjs optimizer
      const resumed = new Optimizer(SETTINGS[name]!, decayableKernel(loaded.model));
      resumed.restore(loaded.optimizerState!, loaded.model.trainableWeights, dir);
      expect(resumed.step).toBe(2);
      step(resumed, loaded.model, 2);
      expect(values(loaded.model)).toEqual(values(model));
      for (const o of [optimizer, resumed]) o.dispose();
      for (const m of [model, loaded.model]) m.dispose();
    });
  }

  it('refuses the state of another optimizer and of another architecture, naming the source', async () => {
    const model = denseModel();
    const sgd = new Optimizer(SETTINGS['momentum']!, decayableKernel(model));
    step(sgd, model, 0);
    const dir = path.join(root, 'momentum');
    await saveCheckpointModel(dir, model, { optimizer: sgd.snapshot() });
    const { model: saved, optimizerState } = await loadCheckpointModel(dir);
    const adam = new Optimizer(SETTINGS['adam']!, new Set());
    expect(() => adam.restore(optimizerState!, saved.trainableWeights, dir)).toThrow(
      /momentum: optimizer state of fisherlab\.SGD, but this run uses fisherlab\.Adam/,
    );
    const wider = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 1, name: 'dense' })] });
    const other = new Optimizer(SETTINGS['momentum']!, new Set());
    expect(() => other.restore(optimizerState!, wider.trainableWeights, dir)).toThrow(
      /slot 'momentum' of 'dense\/kernel' \(shape \[3,1\]\) has no weight of that name and shape/,
    );
    for (const o of [sgd, adam, other]) o.dispose();
    for (const m of [model, saved, wider]) m.dispose();
  });
});
