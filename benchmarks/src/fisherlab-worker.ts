import { totalmem } from 'node:os';
import { createInterface } from 'node:readline';
import { initBackend, leanVariableGrads, softmaxCrossEntropy, tf } from '@fisherlab/engine';
import { estimateFisherTrace, FisherPenalty, type TraceEstimator } from '@fisherlab/fisher';
import { countTrainableParams, createModel, type ModelSpec } from '@fisherlab/models';
import { forwardFlopsPerExample } from './flops.js';
import {
  type KernelCost,
  type PrepareReply,
  type ProfileReply,
  type TaskRequest,
  type TimeReply,
  type WorkerState,
  ZOO_SPECS,
} from './tasks.js';

/**
 * FisherLab's side of the suite, one process per backend (FISHERLAB_BACKEND, FISHERLAB_WASM_THREADS):
 * one JSON request per stdin line, one JSON reply per stdout line, like reference/torch_bench.py.
 * The tasks use the public APIs a researcher would call: createModel, FisherPenalty.step (method
 * 'exact', the default: double backprop), estimateFisherTrace, model.apply.
 */

const ALPHA = 0.1;
const LR = 0.01;
/** Untimed runs before timing (same in torch_bench.py): up to 3, while they total under 3 s. */
const WARMUP_RUNS = 3;
const WARMUP_BUDGET_MS = 3000;

interface Prepared {
  run: () => unknown;
  release: () => void;
  info: Omit<PrepareReply, 'warmupMs' | 'value'>;
}

function prepare(request: TaskRequest): Prepared {
  if (request.task === 'matmul') {
    const n = request.n ?? 1024;
    const a = tf.randomNormal([n, n], 0, 1, 'float32', 1);
    const b = tf.randomNormal([n, n], 0, 1, 'float32', 2);
    return {
      run: () => tf.tidy(() => tf.matMul(a, b).dataSync()[0]),
      release: () => tf.dispose([a, b]),
      info: { flops: 2 * n ** 3 },
    };
  }
  const { model: arch, classes, batch } = request;
  if (!arch || !classes || !batch) {
    throw new Error(
      `task '${request.task}': expected model, classes and batch, found ${JSON.stringify(request)}`,
    );
  }
  const side = request.side ?? 32;
  const channels = request.channels ?? 3;
  const zooSpec = ZOO_SPECS[arch];
  if (!zooSpec) throw new Error(`model '${arch}': expected one of ${Object.keys(ZOO_SPECS).join(', ')}`);
  const model = createModel({
    ...zooSpec,
    inputShape: [side, side, channels],
    numClasses: classes,
    seed: request.seed ?? 0,
  } as ModelSpec);
  const examples = request.task.startsWith('trace-') ? (request.n ?? batch) : batch;
  const x = tf.randomNormal([examples, side, side, channels], 0, 1, 'float32', 3);
  const labels = tf.randomUniform([examples], 0, classes, 'int32', 4) as tf.Tensor1D;
  const info = {
    params: countTrainableParams(model),
    flopsPerExample: forwardFlopsPerExample(model),
    ...(request.task.startsWith('trace-')
      ? { perExampleMethod: 'one-pass layer norms (BackPACK-style)' }
      : {}),
  };
  const optimizer = tf.train.sgd(LR);
  const release = () => {
    tf.dispose([x, labels]);
    optimizer.dispose();
    model.dispose();
  };
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const penaltyStep = (penalty: FisherPenalty, step: number) => {
    const result = penalty.step(model, x, labels, step);
    optimizer.applyGradients(result.namedGrads);
    tf.dispose(result.grads);
    return result.loss;
  };
  switch (request.task) {
    case 'sgd-step':
      return {
        info,
        release,
        run: () =>
          tf.tidy(() => {
            const { value, grads } = leanVariableGrads(
              () => softmaxCrossEntropy(model.apply(x, { training: true }) as tf.Tensor2D, labels),
              variables,
            );
            optimizer.applyGradients(grads);
            return value.dataSync()[0];
          }),
      };
    case 'penalty-k1': {
      const penalty = new FisherPenalty({ kind: 'fisher', alpha: ALPHA, method: 'exact', seed: 1 });
      let step = 0;
      return { info, release, run: () => penaltyStep(penalty, step++) };
    }
    case 'penalty-k10': {
      const penalty = new FisherPenalty({
        kind: 'fisher',
        alpha: ALPHA,
        every: 10,
        method: 'exact',
        seed: 1,
      });
      let step = 0;
      return {
        info,
        release,
        run: () => {
          let loss = 0;
          for (let i = 0; i < 10; i++) loss = penaltyStep(penalty, step++);
          return loss;
        },
      };
    }
    case 'trace-mc':
    case 'trace-minibatch':
    case 'trace-empirical':
    case 'trace-exact': {
      const estimator = request.task.slice('trace-'.length) as TraceEstimator;
      let seed = 0;
      return {
        info,
        release,
        run: () => {
          const estimate = estimateFisherTrace(
            model,
            { x, labels },
            { estimator, batchSize: batch, seed: seed++ },
          );
          return [estimate.value, estimate.standardError];
        },
      };
    }
    case 'forward':
      return {
        info,
        release,
        run: () => tf.tidy(() => tf.sum(model.apply(x, { training: false }) as tf.Tensor).dataSync()[0]),
      };
  }
}

function wasmHeapBytes(): number | undefined {
  const backend = tf.backend() as unknown as { wasm?: { HEAP8?: { length: number } } };
  return backend.wasm?.HEAP8?.length;
}

/** The process's peak resident memory since it started, in bytes. */
const maxRssBytes = () => process.resourceUsage().maxRSS * 1024;

/**
 * One timed run: the task back to back until `minMs` have passed (at least once), as a training loop
 * runs its steps; wall and CPU time per repetition.
 */
function timeRun(run: () => unknown, minMs = 0): TimeReply {
  const cpu = process.cpuUsage();
  const start = performance.now();
  let value = run();
  let repetitions = 1;
  while (performance.now() - start < minMs) {
    value = run();
    repetitions++;
  }
  const wallMs = (performance.now() - start) / repetitions;
  const used = process.cpuUsage(cpu);
  return {
    wallMs,
    cpuMs: (used.user + used.system) / 1000 / repetitions,
    repetitions,
    value,
    maxRssBytes: maxRssBytes(),
    wasmHeapBytes: wasmHeapBytes(),
  };
}

async function profile(run: () => unknown, top: number): Promise<ProfileReply> {
  const info = await tf.profile(() => {
    run();
  });
  const byKernel = new Map<string, { ms: number; calls: number }>();
  for (const kernel of info.kernels) {
    // tf.profile also lists the op wrappers ('fusedConv2d__op') around the kernels: counting both doubles.
    if (kernel.name.endsWith('__op')) continue;
    const ms = Number(await kernel.kernelTimeMs);
    const entry = byKernel.get(kernel.name) ?? { ms: 0, calls: 0 };
    byKernel.set(kernel.name, { ms: entry.ms + (Number.isFinite(ms) ? ms : 0), calls: entry.calls + 1 });
  }
  const kernels: KernelCost[] = [...byKernel]
    .map(([kernel, cost]) => ({ kernel, ...cost }))
    .sort((a, b) => b.ms - a.ms);
  return {
    peakBytes: info.peakBytes,
    kernels: kernels.slice(0, top),
    totalKernelMs: kernels.reduce((sum, k) => sum + k.ms, 0),
  };
}

async function main(): Promise<void> {
  const report = await initBackend();
  let task: Prepared | undefined;
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    if (!line.trim()) continue;
    const request = JSON.parse(line) as { id: number; cmd: string } & TaskRequest & {
        top?: number;
        minMs?: number;
      };
    const reply: { id: number; result?: unknown; error?: string; state?: WorkerState } = { id: request.id };
    try {
      switch (request.cmd) {
        case 'hello':
          reply.result = {
            name: 'fisherlab',
            version: tf.version_core,
            backend: report.choice,
            threads: report.threads,
            simd: report.simd,
            native: report.native,
            tfBackend: report.tfBackend,
            // The engine's own statement of where tensors live and how much they may take, when its
            // report has one; otherwise the suite derives it from the backend (report.ts memoryCeiling).
            memoryCeiling: (report as { memoryCeiling?: unknown }).memoryCeiling,
            totalMemBytes: totalmem(),
          };
          break;
        case 'prepare': {
          task?.release();
          task = prepare(request);
          // Warm-up as in the PyTorch worker: at least one run, up to WARMUP_RUNS while they stay
          // under WARMUP_BUDGET_MS in all (the first steps grow the wasm heap and fault its pages in).
          const warm = timeRun(task.run);
          let spent = warm.wallMs;
          for (let i = 1; i < WARMUP_RUNS && spent < WARMUP_BUDGET_MS; i++) spent += timeRun(task.run).wallMs;
          reply.result = { ...task.info, warmupMs: warm.wallMs, value: warm.value } satisfies PrepareReply;
          break;
        }
        case 'time':
          if (!task) throw new Error("'time' before 'prepare'");
          reply.result = timeRun(task.run, request.minMs ?? 0);
          break;
        case 'profile':
          if (!task) throw new Error("'profile' before 'prepare'");
          reply.result = await profile(task.run, request.top ?? 8);
          break;
        case 'release':
          task?.release();
          task = undefined;
          reply.result = { numTensors: tf.memory().numTensors };
          break;
        case 'exit':
          process.stdout.write(`${JSON.stringify({ ...reply, result: {} })}\n`);
          process.exit(0);
          break;
        default:
          throw new Error(`unknown cmd '${request.cmd}'`);
      }
    } catch (error) {
      reply.error = error instanceof Error ? error.message : String(error);
      // A failed step (a heap exhausted) says how much memory it had reached.
      reply.state = { wasmHeapBytes: wasmHeapBytes(), maxRssBytes: maxRssBytes() };
    }
    process.stdout.write(`${JSON.stringify(reply)}\n`);
  }
}

await main();
