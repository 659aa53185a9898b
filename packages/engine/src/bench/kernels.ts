import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend.js';
import { type BackendWasm, stockWasmKernel } from '../kernels/wasm/wasm-backend.js';

/**
 * FisherLab's wasm kernels against the stock tfjs 4.22 wasm kernels they replace, on layer shapes
 * of the bench models at batch 128. Reports process CPU time (min of --reps runs), which the
 * other jobs on a shared machine disturb far less than wall time; wasm runs on one thread.
 *   pnpm bench:kernels -- --reps 3
 */

const reps = Number(process.argv[process.argv.indexOf('--reps') + 1] ?? 3) || 3;

/**
 * Min CPU time of `run` over fresh inputs each time: XNNPACK caches packed weights per tensor, so
 * re-running on the same tensors would hide the packing a training step pays on every call.
 */
function cpuMs(makeInputs: () => tf.NamedTensorMap, run: (inputs: tf.NamedTensorMap) => void): number {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < reps; i++) {
    const inputs = makeInputs();
    const start = process.cpuUsage();
    run(inputs);
    const used = process.cpuUsage(start);
    best = Math.min(best, (used.user + used.system) / 1000);
    tf.dispose(Object.values(inputs));
  }
  return best;
}

interface Case {
  kernel: string;
  label: string;
  inputs: () => tf.NamedTensorMap;
  attrs: tf.NamedAttrMap;
}

const conv = (n: number, size: number, cin: number, cout: number, stride: number) => {
  const out = Math.ceil(size / stride);
  return {
    label: `${n}x${size}x${size}x${cin} -> ${cout}, 3x3 stride ${stride}`,
    x: () => tf.randomNormal([n, size, size, cin]),
    dy: () => tf.randomNormal([n, out, out, cout]),
    filter: () => tf.randomNormal([3, 3, cin, cout]),
    attrs: { strides: [stride, stride], pad: 'same', dataFormat: 'NHWC' },
    inputShape: [n, size, size, cin],
    filterShape: [3, 3, cin, cout],
  };
};

function cases(): Case[] {
  const list: Case[] = [];
  for (const c of [
    conv(128, 32, 3, 32, 1),
    conv(128, 16, 32, 64, 1),
    conv(128, 8, 128, 256, 1),
    conv(128, 32, 64, 128, 2),
  ]) {
    list.push({
      kernel: tf.Conv2DBackpropInput,
      label: c.label,
      inputs: () => ({ dy: c.dy(), filter: c.filter() }),
      attrs: { ...c.attrs, inputShape: c.inputShape },
    });
    list.push({
      kernel: tf.Conv2DBackpropFilter,
      label: c.label,
      inputs: () => ({ x: c.x(), dy: c.dy() }),
      attrs: { ...c.attrs, filterShape: c.filterShape },
    });
  }
  for (const [size, channels] of [
    [32, 32],
    [16, 64],
  ] as const) {
    const pool = { filterSize: [2, 2], strides: [2, 2], pad: 'valid' };
    const label = `128x${size}x${size}x${channels}, 2x2 stride 2`;
    const x = () => tf.randomNormal([128, size, size, channels]);
    const dy = () => tf.randomNormal([128, size / 2, size / 2, channels]);
    list.push({
      kernel: tf.MaxPoolGrad,
      label,
      inputs: () => ({ dy: dy(), input: x(), output: dy() }),
      attrs: pool,
    });
    list.push({ kernel: tf.AvgPoolGrad, label, inputs: () => ({ dy: dy(), input: x() }), attrs: pool });
  }
  for (const shape of [
    [128, 32, 32, 32],
    [128, 16, 16, 64],
  ]) {
    for (const kernel of [tf.Sum, tf.Mean]) {
      list.push({
        kernel,
        label: `[${shape}] over axes 0, 1, 2`,
        inputs: () => ({ x: tf.randomNormal(shape) }),
        attrs: { axis: [0, 1, 2], keepDims: false },
      });
    }
  }
  for (const [m, k, n, ta, tb] of [
    [4096, 128, 128, true, false],
    [128, 128, 4096, false, true],
  ] as const) {
    list.push({
      kernel: tf.BatchMatMul,
      label: `[${m}x${k}]${ta ? 'ᵀ' : ''} x [${k}x${n}]${tb ? 'ᵀ' : ''}`,
      inputs: () => ({
        a: tf.randomNormal(ta ? [1, k, m] : [1, m, k]),
        b: tf.randomNormal(tb ? [1, n, k] : [1, k, n]),
      }),
      attrs: { transposeA: ta, transposeB: tb },
    });
  }
  return list;
}

async function main(): Promise<void> {
  await initBackend({ backend: 'wasm' });
  const backend = tf.backend() as unknown as BackendWasm;
  console.log(`wasm kernels, batch 128, CPU ms (min of ${reps}); stock = tfjs ${tf.version_core} wasm`);
  for (const c of cases()) {
    const ours = cpuMs(c.inputs, (inputs) =>
      tf.dispose(tf.engine().runKernel(c.kernel, inputs, c.attrs) as tf.Tensor),
    );
    let stockMs: number | undefined;
    try {
      const stock = stockWasmKernel(c.kernel);
      stock.setupFunc?.(backend);
      stockMs = cpuMs(c.inputs, (inputs) => {
        const infos = Object.fromEntries(
          Object.entries(inputs).map(([name, t]) => [name, t as tf.TensorInfo]),
        );
        const out = stock.kernelFunc({ inputs: infos, backend, attrs: c.attrs }) as tf.TensorInfo;
        backend.disposeData(out.dataId);
      });
    } catch {
      stockMs = undefined; // no stock kernel (Conv2DBackpropFilter)
    }
    const versus =
      stockMs === undefined
        ? 'stock: none'
        : `stock ${stockMs.toFixed(0).padStart(5)} ms (${(stockMs / ours).toFixed(1)}x)`;
    console.log(
      `  ${c.kernel.padEnd(21)} ${c.label.padEnd(34)} ours ${ours.toFixed(0).padStart(5)} ms   ${versus}`,
    );
  }
}

await main();
