import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend, tf } from '@fisherlab/engine';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createModel, type ModelSpec } from '../registry.js';
import { writeFileAtomic } from './atomic.js';
import { loadCheckpointModel, saveCheckpointModel } from './checkpoint.js';

let root: string;
beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
  root = await mkdtemp(join(tmpdir(), 'fisherlab-models-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

// A BatchNorm + residual model small enough for the cpu backend; BN running stats make the
// "same next step" check meaningful (they must survive the round trip too).
const spec: ModelSpec = { arch: 'wrn', depth: 10, width: 1, inputShape: [8, 8, 3], numClasses: 5, seed: 11 };
const x = () => tf.randomNormal([4, 8, 8, 3], 0, 1, 'float32', 1);
const labels = () => tf.oneHot(tf.tensor1d([0, 3, 1, 4], 'int32'), 5);

function trainStep(model: tf.LayersModel, optimizer: tf.Optimizer, seed: number): void {
  const input = tf.randomNormal([4, 8, 8, 3], 0, 1, 'float32', seed);
  const target = labels();
  optimizer.minimize(
    () => tf.losses.softmaxCrossEntropy(target, model.apply(input, { training: true }) as tf.Tensor),
    false,
    model.trainableWeights.map((w) => w.read() as tf.Variable),
  );
  tf.dispose([input, target]);
}

/** Largest |a − b| over all weights (BN running stats included) of two models of one architecture. */
const weightDistance = (a: tf.LayersModel, b: tf.LayersModel): number =>
  tf.tidy(() =>
    Math.max(
      ...a.weights.map((w, i) => tf.max(tf.abs(tf.sub(w.read(), b.weights[i]!.read()))).dataSync()[0]!),
    ),
  );
const logitsOf = (model: tf.LayersModel) =>
  tf.tidy(() => Array.from((model.predict(x()) as tf.Tensor).dataSync()));

describe('saveCheckpointModel / loadCheckpointModel', () => {
  it('round-trips weights and BatchNorm running stats: the same logits after load', async () => {
    const model = createModel(spec);
    trainStep(model, tf.train.sgd(0.1), 2); // moves the BN running stats off their init
    const dir = join(root, 'logits');
    await saveCheckpointModel(dir, model);
    expect((await readdir(dir)).sort()).toEqual(['model.json', 'weights.bin']);
    const { model: loaded, optimizer } = await loadCheckpointModel(dir);
    expect(optimizer).toBeUndefined();
    expect(loaded.weights.map((w) => w.originalName)).toEqual(model.weights.map((w) => w.originalName));
    expect(logitsOf(loaded)).toEqual(logitsOf(model));
  });

  for (const [label, makeOptimizer, tolerance] of [
    // Momentum resumes bit for bit. Adam recomputes β^t with pow() on load where a running run has
    // multiplied β in t times: that may differ in the last bit, hence a tolerance far below a step.
    ['SGD with momentum', () => tf.train.momentum(0.05, 0.9), 0],
    ['Adam', () => tf.train.adam(0.01), 1e-6],
  ] as const) {
    it(`save → load → continue gives the same next step as not saving (${label})`, async () => {
      const model = createModel(spec);
      const optimizer = makeOptimizer();
      trainStep(model, optimizer, 3);
      trainStep(model, optimizer, 4);
      const dir = join(root, label.replace(/\W+/g, '-'));
      await saveCheckpointModel(dir, model, { optimizer });

      const resumed = await loadCheckpointModel(dir);
      expect(resumed.optimizer?.getClassName()).toBe(optimizer.getClassName());
      expect(resumed.optimizer?.iterations).toBe(2);
      trainStep(model, optimizer, 5);
      trainStep(resumed.model, resumed.optimizer!, 5);
      expect(weightDistance(resumed.model, model)).toBeLessThanOrEqual(tolerance);

      // And the step did something: weights differ from a model resumed without optimizer state.
      const fresh = await loadCheckpointModel(dir);
      trainStep(fresh.model, makeOptimizer(), 5);
      expect(weightDistance(fresh.model, model)).toBeGreaterThan(1e-4);
    });
  }

  it('refuses a torn checkpoint (weights from another save) and names the file', async () => {
    const model = createModel(spec);
    const dir = join(root, 'torn');
    await saveCheckpointModel(dir, model, { optimizer: tf.train.momentum(0.1, 0.9) });
    const other = createModel({ ...spec, seed: 99 });
    const otherDir = join(root, 'torn-other');
    await saveCheckpointModel(otherDir, other);
    await writeFile(join(dir, 'weights.bin'), await readFile(join(otherDir, 'weights.bin')));
    await expect(loadCheckpointModel(dir)).rejects.toThrow(
      /weights\.bin: SHA-256 differs from the one model\.json recorded/,
    );
  });

  it('loads a plain tfjs model directory with sharded weights (a user-brought model)', async () => {
    const model = createModel({ arch: 'simplecnn', inputShape: [28, 28, 1], numClasses: 10, seed: 5 });
    const dir = join(root, 'user');
    await saveCheckpointModel(dir, model);
    // Rewrite it the way tfjs converters do: no FisherLab key, weights split in two shards.
    const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8'));
    delete json.fisherlab;
    const bytes = await readFile(join(dir, 'weights.bin'));
    const cut = 4 * 1000;
    await writeFile(join(dir, 'group1-shard1of2.bin'), bytes.subarray(0, cut));
    await writeFile(join(dir, 'group1-shard2of2.bin'), bytes.subarray(cut));
    await rm(join(dir, 'weights.bin'));
    json.weightsManifest[0].paths = ['group1-shard1of2.bin', 'group1-shard2of2.bin'];
    await writeFile(join(dir, 'model.json'), JSON.stringify(json));
    const { model: loaded } = await loadCheckpointModel(dir);
    const input = tf.randomNormal([2, 28, 28, 1], 0, 1, 'float32', 8);
    expect(Array.from((loaded.predict(input) as tf.Tensor).dataSync())).toEqual(
      Array.from((model.predict(input) as tf.Tensor).dataSync()),
    );
  });

  it('says what is wrong with a missing or foreign directory', async () => {
    await expect(loadCheckpointModel(join(root, 'nope'))).rejects.toThrow(
      /nope\/model\.json: cannot read the model/,
    );
    const dir = join(root, 'foreign');
    await saveCheckpointModel(dir, createModel({ arch: 'mlp', inputShape: [4], numClasses: 2 }));
    await writeFile(join(dir, 'model.json'), JSON.stringify({ hello: 1 }));
    await expect(loadCheckpointModel(dir)).rejects.toThrow(
      /expected a tfjs model\.json with 'modelTopology'.*found keys hello/,
    );
  });

  it('refuses optimizer state saved for another architecture', async () => {
    const a = createModel(spec);
    const optimizer = tf.train.momentum(0.1, 0.9);
    trainStep(a, optimizer, 6);
    const dir = join(root, 'mismatch');
    await saveCheckpointModel(dir, a, { optimizer });
    // Swap in the weights of a wider model, keeping the optimizer files (hashes updated so only the shape check fires).
    const b = createModel({ ...spec, width: 2 });
    const bDir = join(root, 'mismatch-b');
    await saveCheckpointModel(bDir, b);
    const bJson = JSON.parse(await readFile(join(bDir, 'model.json'), 'utf8'));
    const aJson = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8'));
    bJson.fisherlab.sha256['optimizer.json'] = aJson.fisherlab.sha256['optimizer.json'];
    bJson.fisherlab.sha256['optimizer.bin'] = aJson.fisherlab.sha256['optimizer.bin'];
    await writeFile(join(dir, 'model.json'), JSON.stringify(bJson));
    await writeFile(join(dir, 'weights.bin'), await readFile(join(bDir, 'weights.bin')));
    await expect(loadCheckpointModel(dir)).rejects.toThrow(
      /optimizer\.json: slot 'momentum' of 'block1\.layer\.0\.conv1\/kernel' has shape \[3,3,16,16\] but the model's weight has \[3,3,16,32\]/,
    );
  });
});

describe('writeFileAtomic', () => {
  it('replaces the file whole and leaves no temporary files', async () => {
    const dir = await mkdtemp(join(root, 'atomic-'));
    const path = join(dir, 'data.bin');
    await writeFileAtomic(path, new Uint8Array([1, 2, 3]));
    await writeFileAtomic(path, new Uint8Array([4, 5]));
    expect(Array.from(await readFile(path))).toEqual([4, 5]);
    expect(await readdir(dir)).toEqual(['data.bin']);
  });

  it('fails without touching the target when the directory does not exist', async () => {
    await expect(writeFileAtomic(join(root, 'missing-dir', 'x.bin'), 'x')).rejects.toThrow(/ENOENT/);
  });
});
