import { tf } from '@fisherlab/engine';
import { createModel } from '@fisherlab/models';
import { beforeAll, describe, expect, it } from 'vitest';
import { forwardFlopsPerExample } from './flops.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('forwardFlopsPerExample', () => {
  it('counts SimpleCNN on 32x32x3 as 2 x its multiply-adds, worked out by hand', () => {
    const model = createModel({ arch: 'simplecnn', inputShape: [32, 32, 3], numClasses: 10, seed: 0 });
    const macs =
      32 * 32 * 32 * (3 * 3 * 3) + // conv1: 32x32 positions, 32 filters, 3x3x3 inputs
      16 * 16 * 64 * (3 * 3 * 32) + // conv2 after the first pool
      8 * 8 * 64 * 128 + // fc1 on the flattened 8x8x64 map
      128 * 10;
    expect(forwardFlopsPerExample(model)).toBe(2 * macs);
    expect(2 * macs).toBe(12_257_792);
    model.dispose();
  });

  it('counts VGG-11 (CIFAR, 100 classes) as the published 153 M multiply-adds', () => {
    const model = createModel({
      arch: 'vgg11',
      batchNorm: true,
      inputShape: [32, 32, 3],
      numClasses: 100,
      seed: 0,
    });
    const conv = (side: number, cin: number, cout: number) => side * side * cout * 9 * cin;
    const macs =
      conv(32, 3, 64) +
      conv(16, 64, 128) +
      conv(8, 128, 256) +
      conv(8, 256, 256) +
      conv(4, 256, 512) +
      conv(4, 512, 512) +
      conv(2, 512, 512) +
      conv(2, 512, 512) +
      512 * 100;
    expect(macs).toBe(152_815_616);
    expect(forwardFlopsPerExample(model)).toBe(2 * macs);
    model.dispose();
  });
});
