import os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../backend.js';
import { loadNativeAddon } from './addon.js';
import { registerNativeKernels, unregisterNativeKernels } from './index.js';
import { nativeThreadsFromEnv } from './tier.js';

/**
 * Each native kernel against the wasm kernel it replaces, on the conv layers of SimpleCNN and
 * VGG-11 at batch 128: median wall and process CPU ms of the op call over --reps runs (after one
 * warm-up), fresh inputs each run (XNNPACK caches packed weights per tensor). Native threads: FISHERLAB_NATIVE_THREADS.
 *   pnpm bench:native -- --reps 5
 */

const reps = Number(process.argv[process.argv.indexOf('--reps') + 1] ?? 5) || 5;
const batch = Number(process.argv[process.argv.indexOf('--batch') + 1] ?? 128) || 128;

interface Layer {
  label: string;
  size: number;
  cin: number;
  cout: number;
}

const LAYERS: Layer[] = [
  { label: 'SimpleCNN conv1', size: 32, cin: 3, cout: 32 },
  { label: 'SimpleCNN conv2', size: 16, cin: 32, cout: 64 },
  { label: 'VGG conv1', size: 32, cin: 3, cout: 64 },
  { label: 'VGG conv2', size: 16, cin: 64, cout: 128 },
  { label: 'VGG conv3', size: 8, cin: 128, cout: 256 },
  { label: 'VGG conv4', size: 8, cin: 256, cout: 256 },
  { label: 'VGG conv5', size: 4, cin: 256, cout: 512 },
  { label: 'VGG conv6', size: 4, cin: 512, cout: 512 },
  { label: 'VGG conv7', size: 2, cin: 512, cout: 512 },
];

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
};

function time(
  makeInputs: () => tf.Tensor[],
  run: (inputs: tf.Tensor[]) => tf.Tensor,
): { wall: number; cpu: number } {
  const walls: number[] = [];
  const cpus: number[] = [];
  for (let i = 0; i < reps + 1; i++) {
    const inputs = makeInputs();
    const cpuStart = process.cpuUsage();
    const wallStart = performance.now();
    // Both tiers compute synchronously inside the op call; reading the output back (dataSync) would
    // add a copy that costs more than the kernel on the large layers (118 ms for VGG conv1's 33 MB).
    const out = run(inputs);
    const wall = performance.now() - wallStart;
    const used = process.cpuUsage(cpuStart);
    if (i > 0) {
      walls.push(wall);
      cpus.push((used.user + used.system) / 1000);
    }
    tf.dispose([...inputs, out]);
  }
  return { wall: median(walls), cpu: median(cpus) };
}

const KERNELS = {
  'conv2d+bias+relu': (l: Layer) => ({
    inputs: () => [
      tf.randomNormal([batch, l.size, l.size, l.cin]),
      tf.randomNormal([3, 3, l.cin, l.cout]),
      tf.randomNormal([l.cout]),
    ],
    run: ([x, w, b]: tf.Tensor[]) =>
      tf.fused.conv2d({
        x: x as tf.Tensor4D,
        filter: w as tf.Tensor4D,
        bias: b,
        strides: 1,
        pad: 'same',
        activation: 'relu',
      }),
  }),
  backpropInput: (l: Layer) => ({
    inputs: () => [tf.randomNormal([batch, l.size, l.size, l.cout]), tf.randomNormal([3, 3, l.cin, l.cout])],
    run: ([dy, w]: tf.Tensor[]) =>
      tf.conv2dTranspose(dy as tf.Tensor4D, w as tf.Tensor4D, [batch, l.size, l.size, l.cin], 1, 'same'),
  }),
  backpropFilter: (l: Layer) => ({
    inputs: () => [
      tf.randomNormal([batch, l.size, l.size, l.cin]),
      tf.randomNormal([batch, l.size, l.size, l.cout]),
    ],
    run: ([x, dy]: tf.Tensor[]) =>
      tf.engine().runKernel(
        tf.Conv2DBackpropFilter,
        { x: x as tf.Tensor, dy: dy as tf.Tensor },
        {
          strides: [1, 1],
          pad: 'same',
          dataFormat: 'NHWC',
          filterShape: [3, 3, l.cin, l.cout],
        },
      ) as tf.Tensor,
  }),
};

async function main(): Promise<void> {
  await initBackend({ backend: 'wasm', native: 'off' });
  const load = loadNativeAddon();
  if ('reason' in load) throw new Error(`cannot compare: ${load.reason}`);
  load.addon.setThreads(nativeThreadsFromEnv());
  console.log(
    `batch ${batch}, ${reps} runs (median), native ${load.addon.library()} on ${nativeThreadsFromEnv()} threads, load ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  console.log(
    '| layer | kernel | wasm wall ms | wasm CPU ms | native wall ms | native CPU ms | wall speed-up |',
  );
  console.log('|---|---|---:|---:|---:|---:|---:|');
  const totals = { wasm: 0, native: 0 };
  for (const layer of LAYERS) {
    for (const [name, make] of Object.entries(KERNELS)) {
      const { inputs, run } = make(layer);
      unregisterNativeKernels();
      const wasm = time(inputs, run);
      registerNativeKernels(load.addon);
      const native = time(inputs, run);
      unregisterNativeKernels();
      totals.wasm += wasm.wall;
      totals.native += native.wall;
      console.log(
        `| ${layer.label} ${layer.size}x${layer.size}x${layer.cin}→${layer.cout} | ${name} | ${wasm.wall.toFixed(1)} | ${wasm.cpu.toFixed(1)} | ${native.wall.toFixed(1)} | ${native.cpu.toFixed(1)} | ${(wasm.wall / native.wall).toFixed(2)}x |`,
      );
    }
  }
  // Matrix products of a dense layer at this batch (forward, dW = xᵀ·dy, dx = dy·Wᵀ) and a square one.
  const products: [string, number[], number[], boolean, boolean][] = [
    ['SimpleCNN dense 4096→128 forward', [batch, 4096], [4096, 128], false, false],
    ['SimpleCNN dense 4096→128 dW = xᵀ·dy', [batch, 4096], [batch, 128], true, false],
    ['SimpleCNN dense 4096→128 dx = dy·Wᵀ', [batch, 128], [4096, 128], false, true],
    ['square 1024', [1024, 1024], [1024, 1024], false, false],
  ];
  for (const [label, aShape, bShape, transposeA, transposeB] of products) {
    const inputs = () => [tf.randomNormal(aShape), tf.randomNormal(bShape)];
    const run = ([a, b]: tf.Tensor[]) =>
      tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D, transposeA, transposeB);
    unregisterNativeKernels();
    const wasm = time(inputs, run);
    registerNativeKernels(load.addon);
    const native = time(inputs, run);
    unregisterNativeKernels();
    totals.wasm += wasm.wall;
    totals.native += native.wall;
    console.log(
      `| ${label} | matmul | ${wasm.wall.toFixed(1)} | ${wasm.cpu.toFixed(1)} | ${native.wall.toFixed(1)} | ${native.cpu.toFixed(1)} | ${(wasm.wall / native.wall).toFixed(2)}x |`,
    );
  }
  console.log(
    `total wall: wasm ${totals.wasm.toFixed(0)} ms, native ${totals.native.toFixed(0)} ms; load ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
}

await main();
