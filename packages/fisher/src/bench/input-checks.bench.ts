/**
 * Benchmark (not a test): what the input checks cost per step. For each model, the checks alone
 * (checkInputBatch with the NaN scan, checkClassLabels) and whole FisherPenalty steps, plain and
 * penalized, with `checkFinite` on and off:
 * - SimpleCNN (conv32-pool-conv64-pool-dense128-dense10, 32x32x3) at batch 128;
 * - the demo CNN (createModel simplecnn, filters [16, 32], hiddenUnits 64, 28x28x1) at batch 64.
 *
 *   pnpm --filter @fisherlab/fisher bench:checks [-- --backend native --reps 20]
 *
 * Prints one JSON line per measurement (median ms over reps, after a warm-up).
 */

import { initBackend, tf } from '@fisherlab/engine';
import { checkClassLabels, checkInputBatch, FisherPenalty } from '@fisherlab/fisher';
import { createModel } from '@fisherlab/models';

const argv = process.argv.slice(2);
const option = (flag: string, fallback: string) => {
  const i = argv.indexOf(flag);
  return i >= 0 ? (argv[i + 1] ?? fallback) : fallback;
};
const backend = option('--backend', 'native');
const reps = Number(option('--reps', '20'));

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

function msPerCall(body: () => void): number {
  body();
  const times: number[] = [];
  for (let r = 0; r < reps; r++) {
    const start = performance.now();
    body();
    times.push(performance.now() - start);
  }
  return median(times);
}

function simpleCnn(): tf.LayersModel {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({
        inputShape: [32, 32, 3],
        filters: 32,
        kernelSize: 3,
        padding: 'same',
        activation: 'relu',
      }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.conv2d({ filters: 64, kernelSize: 3, padding: 'same', activation: 'relu' }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 128, activation: 'relu' }),
      tf.layers.dense({ units: 10 }),
    ],
  });
}

const cases: { name: string; build: () => tf.LayersModel; shape: [number, number, number, number] }[] = [
  { name: 'SimpleCNN 32x32x3', build: simpleCnn, shape: [128, 32, 32, 3] },
  {
    name: 'demo CNN (simplecnn [16,32], 64 hidden) 28x28x1',
    build: () =>
      createModel({
        arch: 'simplecnn',
        inputShape: [28, 28, 1],
        numClasses: 10,
        filters: [16, 32],
        hiddenUnits: 64,
        seed: 0,
      } as Parameters<typeof createModel>[0]),
    shape: [64, 28, 28, 1],
  },
];

const report = await initBackend({ backend: backend as 'native' });
console.log(JSON.stringify({ backend: report.choice, reps }));
for (const { name, build, shape } of cases) {
  const model = build();
  const batch = shape[0];
  const x = tf.randomNormal(shape, 0, 1, 'float32', 1);
  const labels = tf.tensor1d(
    Array.from({ length: batch }, (_, i) => i % 10),
    'int32',
  );
  const checksOnly = msPerCall(() => {
    checkInputBatch(model, x, 'bench');
    checkClassLabels(model, labels, batch, 'bench').dispose();
  });
  // Checked and unchecked steps alternate (which goes first alternates too), so drift on a shared
  // machine hits both alike. every: 2
  // makes odd steps plain (one forward and backward) and even steps penalized.
  const steps = (penalized: boolean) => {
    const checked = new FisherPenalty({ kind: 'fisher', alpha: 0.1, every: 2 });
    const unchecked = new FisherPenalty({ kind: 'fisher', alpha: 0.1, every: 2, checkFinite: false });
    const times = { checked: [] as number[], unchecked: [] as number[] };
    for (let r = -1; r < reps; r++) {
      for (const [key, penalty] of [
        ['checked', checked],
        ['unchecked', unchecked],
      ] as const) {
        const start = performance.now();
        tf.dispose(penalty.step(model, x, labels, penalized ? 0 : 1).grads);
        if (r >= 0) times[key].push(performance.now() - start);
      }
    }
    return {
      checked: Number(median(times.checked).toFixed(1)),
      unchecked: Number(median(times.unchecked).toFixed(1)),
    };
  };
  const row = {
    model: name,
    batch,
    checksMs: Number(checksOnly.toFixed(3)),
    plainStepMs: steps(false),
    penalizedStepMs: steps(true),
  };
  console.log(JSON.stringify(row));
  tf.dispose([x, labels]);
  model.dispose();
}
