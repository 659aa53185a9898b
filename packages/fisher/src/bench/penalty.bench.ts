/**
 * Benchmark (not a test): ms of a Fisher-penalised SGD step (k = 1) against a plain step, and peak
 * memory, for SimpleCNN (conv32-relu-pool-conv64-relu-pool-dense128-dense10, 32x32x3) at batch 128.
 *
 *   pnpm --filter @fisherlab/fisher bench:penalty [-- --backends wasm,cpu --batch 128 --reps 3 --quick]
 *
 * Prints one line per measurement and a JSON summary at the end.
 */

import { initBackend, softmaxCrossEntropy, tf } from '@fisherlab/engine';
import { FisherPenalty, type PenaltyMethod } from '@fisherlab/fisher';

interface Args {
  backends: string[];
  batch: number;
  reps: number;
  methods: PenaltyMethod[];
  /** Skip the warm-up step and the profiled step (peak memory, kernel count): for the slow cpu backend. */
  quick: boolean;
}

function parseArgs(argv: string[]): Args {
  const get = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  return {
    backends: (get('--backends') ?? 'wasm').split(','),
    batch: Number(get('--batch') ?? 128),
    reps: Number(get('--reps') ?? 3),
    methods: (get('--methods') ?? 'exact,finite-difference').split(',') as PenaltyMethod[],
    quick: argv.includes('--quick'),
  };
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

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

/**
 * Wall-clock and process CPU ms per step. The wasm and cpu backends compute on this thread, so CPU
 * time is the cost of the step itself; on a shared machine wall time also counts waiting for a core.
 */
async function timeIt(
  reps: number,
  step: () => void,
  warmUp: boolean,
): Promise<{ wall: number[]; cpu: number[] }> {
  if (warmUp) step(); // kernel compilation, wasm heap growth
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r < reps; r++) {
    const cpuStart = process.cpuUsage();
    const start = performance.now();
    step();
    wall.push(performance.now() - start);
    const used = process.cpuUsage(cpuStart);
    cpu.push((used.user + used.system) / 1000);
  }
  return { wall, cpu };
}

function wasmHeapBytes(): number | undefined {
  const backend = tf.backend() as unknown as { wasm?: { HEAP8?: { length: number } } };
  return backend.wasm?.HEAP8?.length;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const summary: Record<string, unknown>[] = [];
  for (const backend of args.backends) {
    try {
      await initBackend({ backend: backend as 'wasm' | 'cpu' });
    } catch (error) {
      console.log(`${backend}: unavailable (${(error as Error).message})`);
      continue;
    }
    const model = simpleCnn();
    const optimizer = tf.train.sgd(0.01);
    const x = tf.randomNormal([args.batch, 32, 32, 3], 0, 1, 'float32', 1);
    const labels = tf.tensor1d(
      Array.from({ length: args.batch }, (_, i) => i % 10),
      'int32',
    );
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const plainStep = () => {
      const { value, grads } = tf.variableGrads(
        () => softmaxCrossEntropy(model.apply(x, { training: true }) as tf.Tensor2D, labels),
        vars,
      );
      optimizer.applyGradients(grads);
      value.dataSync();
      tf.dispose([value, ...Object.values(grads)]);
    };
    const penalisedStep = (method: PenaltyMethod) => {
      const fp = new FisherPenalty({ kind: 'fisher', alpha: 0.1, method, seed: 1 });
      let step = 0;
      return () => {
        const result = fp.step(model, x, labels, step++);
        optimizer.applyGradients(result.namedGrads);
        tf.dispose(result.grads);
      };
    };
    const measure = async (name: string, step: () => void) => {
      const times = await timeIt(args.reps, step, !args.quick);
      const profile = args.quick ? undefined : await tf.profile(step);
      const row = {
        backend,
        step: name,
        batch: args.batch,
        cpuMsMedian: Math.round(median(times.cpu)),
        wallMsMedian: Math.round(median(times.wall)),
        wallMsAll: times.wall.map(Math.round),
        peakMB: profile ? Math.round(profile.peakBytes / 2 ** 20) : undefined,
        kernels: profile?.kernels.length,
        wasmHeapMB: wasmHeapBytes() === undefined ? undefined : Math.round((wasmHeapBytes() ?? 0) / 2 ** 20),
      };
      console.log(JSON.stringify(row));
      summary.push(row);
      return row.cpuMsMedian;
    };
    const plain = await measure('plain', plainStep);
    for (const method of args.methods) {
      const penalised = await measure(`fisher-penalty k=1 ${method}`, penalisedStep(method));
      const ratio = penalised / plain;
      console.log(
        `${backend}: ${method} penalised/plain = ${ratio.toFixed(2)}x (CPU ms); with k=10 on average ` +
          `${((9 * plain + penalised) / 10 / plain).toFixed(2)}x (derived from the two medians)`,
      );
      summary.push({ backend, method, ratio, ratioK10: (9 * plain + penalised) / 10 / plain });
    }
    tf.dispose([x, labels]);
    model.dispose();
    optimizer.dispose();
  }
  console.log(JSON.stringify({ summary }, null, 1));
}

await main();
