import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { DATA_SHAPES, MODELS, type ModelName, type PrepareReply } from './tasks.js';
import { WorkerClient } from './worker-client.js';

const here = dirname(fileURLToPath(import.meta.url));
const python = process.env['FISHERLAB_PYTHON'] ?? '/usr/bin/python3';

function torchInstalled(): boolean {
  try {
    execFileSync(python, ['-c', 'import torch'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * The smallest input each architecture takes (the parameter count does not depend on it: every
 * model pools globally or, for VGG-11, reaches 1x1 at 32x32); the FLOPs compared are at this size.
 */
const SMALL_SIDE: Record<ModelName, number> = {
  simplecnn: 8,
  vgg11bn: 32,
  resnet18: 16,
  'wrn16-4': 16,
  democnn: 8,
};

const forward = (model: ModelName, classes: number) => ({
  task: 'forward',
  model,
  classes,
  batch: 1,
  side: SMALL_SIDE[model],
  channels: DATA_SHAPES[model].channels,
  seed: 0,
});

const fisherlab = new WorkerClient(
  'fisherlab wasm',
  process.execPath,
  ['--import', 'tsx', '--conditions=source', join(here, 'fisherlab-worker.ts')],
  { ...process.env, FISHERLAB_BACKEND: 'wasm' },
);
afterAll(() => fisherlab.close());

describe("the benchmark's FisherLab models are the zoo's, with the published parameter counts", () => {
  // kuangliu/pytorch-cifar ResNet18: 11,173,962 on CIFAR-10; the WRN paper's WRN-16-4: 2.7M
  // (xternalz WideResNet(16, 10, 4): 2,748,890). A head of C classes adds 513 (ResNet-18) or 257
  // (WRN-16-4, 256 features) parameters per class beyond 10.
  it.each([
    ['resnet18', 10, 11_173_962],
    ['resnet18', 100, 11_173_962 + 90 * 513],
    ['wrn16-4', 10, 2_748_890],
    ['wrn16-4', 200, 2_748_890 + 190 * 257],
  ] as const)('%s with %i classes: %i parameters', async (model, classes, params) => {
    const prepared = await fisherlab.request<PrepareReply>('prepare', forward(model, classes));
    expect(prepared.params).toBe(params);
  });
});

describe.skipIf(!torchInstalled())(
  'reference/torch_bench.py builds the same architectures (real PyTorch worker)',
  () => {
    const pytorch = new WorkerClient('pytorch', python, [
      join(here, '..', 'reference', 'torch_bench.py'),
      '--serve',
      '--threads',
      '1',
    ]);
    afterAll(() => pytorch.close());

    it.each(MODELS.map((m) => [m]))(
      '%s: the same parameter count and forward FLOPs on both sides',
      async (model) => {
        const request = forward(model, DATA_SHAPES[model].classes);
        const ours = await fisherlab.request<PrepareReply>('prepare', request);
        const theirs = await pytorch.request<PrepareReply>('prepare', request);
        expect(ours.params).toBeGreaterThan(0);
        expect(theirs.params).toBe(ours.params);
        expect(theirs.flopsPerExample).toBe(ours.flopsPerExample);
      },
    );
  },
);
