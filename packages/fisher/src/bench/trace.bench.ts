import { initBackend, tf } from '@fisherlab/engine';
import { createModel } from '@fisherlab/models';
import { estimateFisherTrace } from '../trace/estimate.js';

/**
 * Cost of the Tr(F) estimators on SimpleCNN (CIFAR-sized inputs, random data): 'mc' on N examples
 * against a plain training pass (forward + backward of the mean loss, training mode) over the same
 * examples at the same batch size, 'minibatch' likewise, and 'exact' per example.
 * Ratios are of process CPU time (user + system), which a machine shared with other jobs disturbs
 * far less than wall time; both are printed.
 * Usage: pnpm bench:trace [-- --n 1024 --batch 128 --exact-n 32]; FISHERLAB_BACKEND picks the backend.
 */

const args = new Map<string, string>();
const argv = process.argv.slice(2).filter((a) => a !== '--');
for (let i = 0; i < argv.length; i += 2) args.set(argv[i]!.replace(/^--/, ''), argv[i + 1]!);
const n = Number(args.get('n') ?? 1024);
const batchSize = Number(args.get('batch') ?? 128);
const exactN = Number(args.get('exact-n') ?? 32);

interface Cost {
  wallMs: number;
  cpuMs: number;
}

function measure(run: () => void): Cost {
  const cpu = process.cpuUsage();
  const wall = performance.now();
  run();
  const used = process.cpuUsage(cpu);
  return { wallMs: performance.now() - wall, cpuMs: (used.user + used.system) / 1000 };
}

function plainTrainingPass(model: tf.LayersModel, x: tf.Tensor, labels: tf.Tensor2D): void {
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  for (let start = 0; start < x.shape[0]!; start += batchSize) {
    const size = Math.min(batchSize, x.shape[0]! - start);
    tf.tidy(() => {
      const xb = tf.slice(x, start, size);
      const yb = tf.slice(labels, start, size);
      const { value, grads } = tf.variableGrads(
        () =>
          tf.losses.softmaxCrossEntropy(yb, model.apply(xb, { training: true }) as tf.Tensor2D) as tf.Scalar,
        variables,
      );
      // Reading the loss and one gradient forces the backend to finish the pass.
      value.dataSync();
      grads[variables[0]!.name]!.dataSync();
    });
  }
}

const backend = await initBackend();
console.log(
  `backend ${backend.choice} (threads ${backend.threads}), SimpleCNN 32x32x3, n ${n}, batch ${batchSize}`,
);
// The zoo's SimpleCNN: conv 32 3x3 relu, max pool 2, conv 64 3x3 relu, max pool 2, dense 128 relu, dense 10.
const model = createModel({ arch: 'simplecnn', inputShape: [32, 32, 3], numClasses: 10, seed: 1 });
const x = tf.randomNormal([n, 32, 32, 3], 0, 1, 'float32', 1);
const labels = tf.oneHot(tf.randomUniform([n], 0, 10, 'int32', 2), 10) as tf.Tensor2D;

// Warm-up: kernels compile and caches fill on the first call.
plainTrainingPass(model, tf.slice(x, 0, batchSize), tf.slice(labels, 0, batchSize));
estimateFisherTrace(model, { x: tf.slice(x, 0, batchSize) }, { estimator: 'mc', batchSize });

const plain = measure(() => plainTrainingPass(model, x, labels));
let mc = estimateFisherTrace(model, { x: tf.slice(x, 0, 1) }, { estimator: 'mc' });
const mcCost = measure(() => {
  mc = estimateFisherTrace(model, { x }, { estimator: 'mc', batchSize, seed: 1 });
});
let minibatch = mc;
const minibatchCost = measure(() => {
  minibatch = estimateFisherTrace(model, { x }, { estimator: 'minibatch', batchSize, seed: 1 });
});
const exactX = tf.slice(x, 0, exactN);
let exact = mc;
const exactCost = measure(() => {
  exact = estimateFisherTrace(
    model,
    { x: exactX },
    { estimator: 'exact', batchSize: Math.min(batchSize, exactN) },
  );
});

const row = (name: string, cost: Cost, extra = '') =>
  console.log(
    `${name.padEnd(34)} cpu ${(cost.cpuMs / 1000).toFixed(1).padStart(6)} s  wall ${(cost.wallMs / 1000).toFixed(1).padStart(6)} s  ` +
      `${(cost.cpuMs / plain.cpuMs).toFixed(2).padStart(5)}x plain (cpu)  ${extra}`,
  );
row(`plain training pass (${n} examples)`, plain);
row(`mc (${n} examples, 1 draw)`, mcCost, `Tr(F) ${mc.value.toFixed(3)} ± ${mc.standardError.toFixed(3)}`);
row(
  `minibatch (${n} examples)`,
  minibatchCost,
  `Tr(F) ${minibatch.value.toFixed(3)} ± ${minibatch.standardError.toFixed(3)}`,
);
row(
  `exact (${exactN} examples)`,
  exactCost,
  `Tr(F) ${exact.value.toFixed(3)} ± ${exact.standardError.toFixed(3)}`,
);
console.log(
  `exact per example: cpu ${(exactCost.cpuMs / exactN).toFixed(1)} ms, wall ${(exactCost.wallMs / exactN).toFixed(1)} ms`,
);
console.log(`tensors alive at the end: ${tf.memory().numTensors}`);
