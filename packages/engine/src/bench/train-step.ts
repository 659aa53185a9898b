import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend.js';
import { useThreadedWasm } from '../kernels/wasm/threaded-backend.js';
import { simpleCnn, vgg11 } from './models.js';

/**
 * Milliseconds per SGD training step (forward, backward, update) on each available backend, with
 * the speed-up over the pure-JS cpu backend. Usage (all optional):
 *   pnpm bench -- --backends native,wasm-native,wasm,cpu --models simplecnn,vgg11bn --batches 128,32 --steps 3 --threads 2
 * 'native' is the native backend (the addon's kernels on JS memory); 'wasm-native' is wasm with the
 * native CPU tier (the addon's kernels on the wasm heap, FISHERLAB_NATIVE=on); 'wasm' is the wasm
 * tier alone (FISHERLAB_NATIVE=off).
 * The cpu backend is slow (its Conv2DBackpropFilter is a scalar loop: about 2 minutes of CPU per
 * SimpleCNN step at batch 128 here), so it runs --cpu-steps steps (default 1, no warm-up) at
 * --cpu-batches (default 32) and skips VGG-11 unless --cpu-vgg is given. Each line also gives the process CPU time per step:
 * on a machine shared with other jobs wall time is inflated, CPU time far less (one thread). --profile adds, per model, the kernels that took the
 * most time in one step. --threads N (N > 1) runs wasm on its threaded build with N XNNPACK threads.
 */

interface Options {
  backends: string[];
  models: string[];
  batches: number[];
  steps: number;
  cpuSteps: number;
  cpuBatches: number[];
  cpuVgg: boolean;
  profile: boolean;
  threads: number;
}

const MODELS: Record<string, { build: () => tf.Sequential; classes: number }> = {
  simplecnn: { build: simpleCnn, classes: 10 },
  vgg11bn: { build: () => vgg11({ batchNorm: true }), classes: 100 },
  vgg11: { build: () => vgg11({ batchNorm: false }), classes: 100 },
};

function parseOptions(argv: string[]): Options {
  const value = (flag: string, fallback: string) => {
    const at = argv.indexOf(flag);
    return at >= 0 && argv[at + 1] !== undefined ? (argv[at + 1] as string) : fallback;
  };
  const options = {
    backends: value('--backends', 'native,wasm-native,wasm,cpu').split(','),
    models: value('--models', 'simplecnn,vgg11bn').split(','),
    batches: value('--batches', '128,32').split(',').map(Number),
    steps: Number(value('--steps', '3')),
    cpuSteps: Number(value('--cpu-steps', '1')),
    cpuBatches: value('--cpu-batches', '32').split(',').map(Number),
    cpuVgg: argv.includes('--cpu-vgg'),
    profile: argv.includes('--profile'),
    threads: Number(value('--threads', '1')),
  };
  for (const model of options.models) {
    if (!(model in MODELS)) {
      throw new Error(
        `--models: '${model}' is not a bench model; use some of ${Object.keys(MODELS).join(', ')}`,
      );
    }
  }
  for (const flag of ['--batches', '--cpu-batches'] as const) {
    const batches = flag === '--batches' ? options.batches : options.cpuBatches;
    if (batches.some((b) => !Number.isInteger(b) || b < 1)) {
      throw new Error(`${flag}: expected positive integers such as 128,32, got '${value(flag, '')}'`);
    }
  }
  return options;
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

/** Wall and CPU time of `steps` SGD steps, after one warm-up step when `warmUp`; counts leaks. */
async function timeTrainStep(
  modelName: string,
  batch: number,
  steps: number,
  options: { profile: boolean; warmUp: boolean },
): Promise<{ ms: number[]; cpuMs: number[]; leaked: number }> {
  const spec = MODELS[modelName] as (typeof MODELS)[string];
  const model = spec.build();
  const optimizer = tf.train.sgd(0.01);
  const x = tf.randomNormal([batch, 32, 32, 3]);
  const labels = tf.oneHot(tf.randomUniform([batch], 0, spec.classes, 'int32') as tf.Tensor1D, spec.classes);
  const step = () =>
    tf.tidy(() => {
      const loss = optimizer.minimize(
        () =>
          tf.losses.softmaxCrossEntropy(labels, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
        true,
      );
      loss?.dataSync();
    });
  if (options.warmUp) step();
  const before = tf.memory().numTensors;
  const ms: number[] = [];
  const cpuMs: number[] = [];
  for (let i = 0; i < steps; i++) {
    const start = performance.now();
    const cpuStart = process.cpuUsage();
    step();
    const cpuUsed = process.cpuUsage(cpuStart);
    ms.push(performance.now() - start);
    cpuMs.push((cpuUsed.user + cpuUsed.system) / 1000);
  }
  const leaked = tf.memory().numTensors - before;
  if (options.profile) await printProfile(step);
  tf.dispose([x, labels]);
  model.dispose();
  return { ms, cpuMs, leaked };
}

/** Kernel time of one step, summed per kernel name, largest first. */
async function printProfile(step: () => void): Promise<void> {
  const info = await tf.profile(step);
  const byKernel = new Map<string, { ms: number; calls: number }>();
  for (const kernel of info.kernels) {
    const ms = Number(await kernel.kernelTimeMs);
    const entry = byKernel.get(kernel.name) ?? { ms: 0, calls: 0 };
    byKernel.set(kernel.name, { ms: entry.ms + ms, calls: entry.calls + 1 });
  }
  const top = [...byKernel].sort((a, b) => b[1].ms - a[1].ms).slice(0, 12);
  for (const [name, { ms, calls }] of top) {
    console.log(`      ${name.padEnd(22)} ${ms.toFixed(0).padStart(6)} ms in ${calls} calls`);
  }
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const results = new Map<string, { wall: number; cpu: number }>();
  for (const backendName of options.backends) {
    let tier = '';
    try {
      if (backendName === 'cpu') await tf.setBackend('cpu');
      else if (backendName === 'native') {
        const report = await initBackend({ backend: 'native' });
        tier = `, ${report.native.library} on ${report.native.threads} threads`;
      } else if (backendName === 'wasm' || backendName === 'wasm-native') {
        if (options.threads > 1) await useThreadedWasm(options.threads);
        const report = await initBackend({
          backend: 'wasm',
          native: backendName === 'wasm-native' ? 'on' : 'off',
        });
        tier = report.native.active
          ? `, native tier: ${report.native.library} on ${report.native.threads} threads`
          : `, native tier off: ${report.native.reason}`;
      } else await initBackend({ backend: backendName as 'tensorflow' });
      const tfName = { 'tensorflow-gpu': 'tensorflow', 'wasm-native': 'wasm' }[backendName] ?? backendName;
      await tf.setBackend(tfName);
    } catch (error) {
      console.log(
        `${backendName}: unavailable (${error instanceof Error ? error.message.split('\n')[0] : error})`,
      );
      continue;
    }
    const threads =
      tf.getBackend() === 'wasm' ? (await import('@tensorflow/tfjs-backend-wasm')).getThreadsCount() : 1;
    console.log(
      `\n${backendName} (tfjs ${tf.version_core}, ${threads} wasm thread${threads === 1 ? '' : 's'}${tier})`,
    );
    for (const modelName of options.models) {
      if (backendName === 'cpu' && modelName.startsWith('vgg') && !options.cpuVgg) {
        console.log(`  ${modelName}: skipped on cpu (minutes per step; pass --cpu-vgg)`);
        continue;
      }
      const onCpu = backendName === 'cpu';
      for (const batch of onCpu ? options.cpuBatches : options.batches) {
        const steps = onCpu ? options.cpuSteps : options.steps;
        const { ms, cpuMs, leaked } = await timeTrainStep(modelName, batch, steps, {
          profile: options.profile,
          warmUp: !onCpu,
        });
        const med = median(ms);
        results.set(`${backendName}/${modelName}/${batch}`, { wall: med, cpu: median(cpuMs) });
        const cpu = results.get(`cpu/${modelName}/${batch}`)?.wall;
        console.log(
          `  ${modelName.padEnd(9)} batch ${String(batch).padStart(3)}: ${med.toFixed(0).padStart(6)} ms/step median of ${steps}` +
            ` [${ms.map((m) => m.toFixed(0)).join(', ')}], CPU time ${median(cpuMs).toFixed(0)} ms` +
            `${leaked ? `, LEAKED ${leaked} tensors/step` : ''}`,
        );
        if (cpu !== undefined && backendName !== 'cpu')
          console.log(`    speed-up over cpu: ${(cpu / med).toFixed(1)}x`);
      }
    }
  }
  // Speed-ups against cpu measured after the fast backend (cpu runs last by default).
  for (const [key, ms] of results) {
    const [backendName, modelName, batch] = key.split('/');
    const cpu = results.get(`cpu/${modelName}/${batch}`);
    if (backendName !== 'cpu' && cpu !== undefined) {
      console.log(
        `speed-up ${backendName} over cpu, ${modelName} batch ${batch}: ${(cpu.wall / ms.wall).toFixed(1)}x wall time, ` +
          `${(cpu.cpu / ms.cpu).toFixed(1)}x CPU time`,
      );
    }
  }
}

await main();
