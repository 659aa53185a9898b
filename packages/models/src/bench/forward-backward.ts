/**
 * Forward + backward time per batch of 128 (32x32x3, 10 classes) for each architecture, on the wasm
 * and cpu backends: the loss and its gradients with respect to every trainable weight, BatchNorm
 * in training mode, no optimizer update. Median of the timed repetitions after one warm-up.
 *
 * The big networks take minutes per batch of 128 on one CPU thread, so by default a case whose
 * estimate (from a small probe batch: 8 images; 2 for WRN-28-10 and on cpu) exceeds the per-case
 * budget is scaled linearly from the probe and marked '~' (conv nets cost ∝ batch; slightly high
 * for the MLP, whose fixed per-step cost is relatively large). 'cpu ms' is this process's CPU time, which on a shared machine says
 * more than wall time about what the pass costs one idle core; 'peak MB' is tf.profile's peak at the
 * probe batch with the activations scaled to 128 (wasm's heap stops at 4 GB). Environment:
 *   FISHERLAB_BENCH_BACKENDS=wasm,cpu   FISHERLAB_BENCH_ARCHS=vgg11,resnet18,…   (labels below)
 *   FISHERLAB_BENCH_BUDGET_S=15 (per case)   FISHERLAB_BENCH_FULL=1 (always time batch 128)
 *   FISHERLAB_BENCH_CPU_ALL=1: also probe the conv nets on cpu, whose naive JS backprop kernels need
 *   minutes even for a probe of 2 images (vgg11: 212 s wall at load average 15), so they are skipped by default.
 */
import { loadavg } from 'node:os';
import { type BackendChoice, initBackend, tf } from '@fisherlab/engine';
import { createModel, type ModelSpec } from '../registry.js';

const BATCH = 128;
const CASES: { label: string; spec: ModelSpec }[] = [
  { label: 'mlp', spec: { arch: 'mlp', inputShape: [32, 32, 3], numClasses: 10 } },
  { label: 'simplecnn', spec: { arch: 'simplecnn', inputShape: [32, 32, 3], numClasses: 10 } },
  { label: 'vgg11', spec: { arch: 'vgg11', inputShape: [32, 32, 3], numClasses: 10 } },
  { label: 'resnet18', spec: { arch: 'resnet18', inputShape: [32, 32, 3], numClasses: 10 } },
  { label: 'wrn-16-4', spec: { arch: 'wrn', depth: 16, width: 4, inputShape: [32, 32, 3], numClasses: 10 } },
  {
    label: 'wrn-28-10',
    spec: { arch: 'wrn', depth: 28, width: 10, inputShape: [32, 32, 3], numClasses: 10 },
  },
  {
    label: 'densenet-bc-100',
    spec: { arch: 'densenet', depth: 100, growthRate: 12, inputShape: [32, 32, 3], numClasses: 10 },
  },
];

const list = (name: string): string[] | undefined => process.env[name]?.split(',').map((s) => s.trim());
const backends = (list('FISHERLAB_BENCH_BACKENDS') ?? ['wasm', 'cpu']) as BackendChoice[];
const archs = list('FISHERLAB_BENCH_ARCHS');
const budgetMs = 1000 * Number(process.env['FISHERLAB_BENCH_BUDGET_S'] ?? 15);
const full = process.env['FISHERLAB_BENCH_FULL'] === '1';
const cpuAll = process.env['FISHERLAB_BENCH_CPU_ALL'] === '1';
const CPU_DEFAULT = ['mlp', 'simplecnn'];

interface Timing {
  wallMs: number;
  /** This process's CPU time: what the pass costs one idle core (both backends run on one thread here). */
  cpuMs: number;
}

/** One forward + backward pass at `batch`. */
function timeStep(model: tf.LayersModel, batch: number): Timing {
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  return tf.tidy(() => {
    const x = tf.randomNormal([batch, 32, 32, 3]);
    const y = tf.oneHot(tf.randomUniform([batch], 0, 10, 'int32'), 10);
    const start = performance.now();
    const cpuStart = process.cpuUsage();
    const { value, grads } = tf.variableGrads(
      () => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
      variables,
    );
    // Reading the results forces the backend to finish (wasm and cpu run synchronously anyway).
    value.dataSync();
    for (const g of Object.values(grads)) g.dataSync();
    const cpu = process.cpuUsage(cpuStart);
    return { wallMs: performance.now() - start, cpuMs: (cpu.user + cpu.system) / 1000 };
  });
}

/** Probe batch: big enough that per-step fixed costs are small, small enough to stay in budget. */
const probeBatchFor = (backend: BackendChoice, label: string): number =>
  backend === 'cpu' || label === 'wrn-28-10' ? 2 : 8;

/**
 * Peak bytes tfjs holds during one pass at `batch` (tf.profile), scaled to 128: weights and their
 * gradients stay, activations and their gradients grow with the batch. wasm's heap stops at 4 GB.
 */
async function peakBytesAt128(model: tf.LayersModel, batch: number): Promise<number> {
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const before = tf.memory().numBytes;
  const info = await tf.profile(() => {
    const x = tf.randomNormal([batch, 32, 32, 3]);
    const y = tf.oneHot(tf.randomUniform([batch], 0, 10, 'int32'), 10);
    const { value, grads } = tf.variableGrads(
      () => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
      variables,
    );
    tf.dispose([x, y, value, ...Object.values(grads)]);
  });
  // The weights' gradients are weight-sized at any batch; the rest (activations) grows with it.
  const gradientBytes = variables.reduce((n, v) => n + 4 * v.size, 0);
  return before + gradientBytes + (info.peakBytes - before - gradientBytes) * (BATCH / batch);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const cell = (ms: number, approx: boolean) => `${approx ? '~' : ''}${ms.toFixed(0)}`.padStart(11);

async function main(): Promise<void> {
  console.log(
    `forward+backward, batch ${BATCH}, 32x32x3, 10 classes; load average ${loadavg()[0]!.toFixed(1)}`,
  );
  console.log('backend  arch               wall ms/128  cpu ms/128  peak MB/128   how');
  for (const backend of backends) {
    const report = await initBackend({ backend });
    const note = backend === 'wasm' ? ` (threads ${report.threads}, simd ${report.simd})` : '';
    for (const { label, spec } of CASES) {
      if (archs && !archs.includes(label)) continue;
      if (backend === 'cpu' && !cpuAll && !archs && !CPU_DEFAULT.includes(label)) {
        console.log(
          `${backend.padEnd(8)} ${label.padEnd(18)} ${'-'.padStart(11)}   skipped (FISHERLAB_BENCH_CPU_ALL=1 runs it)`,
        );
        continue;
      }
      const model = createModel({ ...spec, seed: 0 });
      const probeBatch = probeBatchFor(backend, label);
      timeStep(model, 2); // warm-up: kernel setup, first allocations
      const probe = timeStep(model, probeBatch);
      const peak = await peakBytesAt128(model, probeBatch);
      const peakCell = `${`~${(peak / 2 ** 20).toFixed(0)}`.padStart(12)}${backend === 'wasm' && peak > 4 * 2 ** 30 ? ' (over the 4 GB wasm heap)' : ''}`;
      const scale = BATCH / probeBatch;
      let result: string;
      if (full || probe.wallMs * scale <= budgetMs) {
        const reps = probe.wallMs * scale * 3 <= budgetMs ? 3 : 1;
        const times = Array.from({ length: reps }, () => timeStep(model, BATCH));
        const wall = median(times.map((t) => t.wallMs));
        const cpu = median(times.map((t) => t.cpuMs));
        result = `${cell(wall, false)} ${cell(cpu, false)} ${peakCell}   measured, median of ${reps}`;
      } else {
        result = `${cell(probe.wallMs * scale, true)} ${cell(probe.cpuMs * scale, true)} ${peakCell}   ${scale}x batch ${probeBatch}`;
      }
      console.log(`${backend.padEnd(8)} ${label.padEnd(18)} ${result}${note}`);
      model.dispose();
    }
  }
}

await main();
