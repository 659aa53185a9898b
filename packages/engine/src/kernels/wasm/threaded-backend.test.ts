import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { initBackend } from '../../backend.js';
import { relativeErrors, runKernelOn } from './fixtures/against-cpu.js';
import { convCases, convInputs, outputShape } from './fixtures/conv-cases.js';
import { useThreadedWasm, wasmThreadsFromEnv } from './threaded-backend.js';

describe('FISHERLAB_WASM_THREADS', () => {
  it('defaults to the single-threaded build and validates what it is given', () => {
    expect(wasmThreadsFromEnv({})).toBe(1);
    expect(wasmThreadsFromEnv({ FISHERLAB_WASM_THREADS: '2' })).toBe(2);
    expect(() => wasmThreadsFromEnv({ FISHERLAB_WASM_THREADS: 'two' })).toThrow(
      /FISHERLAB_WASM_THREADS=two is not a thread count; expected an integer from 1 to 8/,
    );
    expect(() => wasmThreadsFromEnv({ FISHERLAB_WASM_THREADS: '16' })).toThrow(/from 1 to 8/);
  });
});

describe('threaded wasm backend under Node', () => {
  it('runs XNNPACK on 2 threads, leaves no global Worker behind, and matches cpu', async () => {
    const hadWorker = 'Worker' in globalThis;
    await useThreadedWasm(2);
    await initBackend({ backend: 'wasm' });
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(wasm.getThreadsCount()).toBe(2);
    expect('Worker' in globalThis).toBe(hadWorker);

    // Large enough that XNNPACK splits the work across both threads.
    const c = {
      inputShape: [8, 16, 16, 8],
      filterShape: [3, 3, 8, 16],
      strides: [1, 1],
      pad: 'same',
    } as const;
    const { x, filter } = convInputs({
      ...c,
      inputShape: [...c.inputShape],
      filterShape: [...c.filterShape],
      strides: [1, 1],
    });
    const inputs = {
      x: { shape: [...c.inputShape], values: x },
      filter: { shape: [...c.filterShape], values: filter },
    };
    const attrs = { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', dilations: [1, 1] };
    const [onWasm] = await runKernelOn('wasm', tf.Conv2D, inputs, attrs);
    const [onCpu] = await runKernelOn('cpu', tf.Conv2D, inputs, attrs);
    expect(relativeErrors(onWasm?.values ?? [], onCpu?.values ?? []).max).toBeLessThan(1e-5);

    // FisherLab's kernels still apply on the threaded module.
    const [name, conv] = convCases()[40] ?? [];
    expect(name).toBeDefined();
    if (!conv) return;
    const grads = convInputs(conv);
    const gradInputs = {
      x: { shape: conv.inputShape, values: grads.x },
      dy: { shape: outputShape(conv), values: grads.dy },
    };
    const gradAttrs = {
      strides: conv.strides,
      pad: conv.pad,
      dataFormat: 'NHWC',
      filterShape: conv.filterShape,
    };
    const [dwWasm] = await runKernelOn('wasm', tf.Conv2DBackpropFilter, gradInputs, gradAttrs);
    const [dwCpu] = await runKernelOn('cpu', tf.Conv2DBackpropFilter, gradInputs, gradAttrs);
    expect(relativeErrors(dwWasm?.values ?? [], dwCpu?.values ?? []).l2).toBeLessThan(1e-5);
  });

  it('lets the process exit on its own once work is done (idle pool threads hold nothing)', () => {
    const script = fileURLToPath(new URL('./fixtures/threaded-exit.ts', import.meta.url));
    // The time limit only stops a hung child; a healthy one exits in seconds.
    const child = spawnSync(process.execPath, ['--import', 'tsx', script], {
      encoding: 'utf8',
      timeout: 90_000,
    });
    expect(child.error).toBeUndefined();
    expect(child.status).toBe(0);
    expect(child.stdout).toContain('threads 2 sum 7776');
  });
});
