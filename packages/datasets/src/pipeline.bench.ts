/**
 * `pnpm bench`: throughput of the augmented float32 batch pipeline (32x32x3, batch 128; target
 * >= 20,000 images/s), load times of the embedded subset and of full Fashion-MNIST (when Debian's
 * package is installed), and TinyImageNet JPEG decode and cache-read rates on synthetic JPEGs.
 */
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { Rng } from '@fisherlab/core';
import { BatchIterator, type BatchIteratorOptions } from './batches.js';
import { CATALOG } from './catalog.js';
import { makeTempDir, writeTinyImageNet } from './fixtures/write.js';
import { loadDataset } from './load.js';
import { type ImageSplit, imageSize } from './types.js';

const format = (n: number): string => Math.round(n).toLocaleString('en-US');

async function timed<T>(run: () => Promise<T> | T): Promise<{ value: T; seconds: number }> {
  const start = performance.now();
  const value = await run();
  return { value, seconds: (performance.now() - start) / 1000 };
}

/** Images per wall-clock second, and per second of this process's CPU time (robust to a busy machine). */
function pipelineRate(
  split: ImageSplit,
  options: Omit<BatchIteratorOptions, 'batchSize' | 'seed'> & { reuse?: boolean },
): { wall: number; cpu: number } {
  const iterator = new BatchIterator(split, { batchSize: 128, seed: 1, ...options });
  for (let i = 0; i < 20; i++) iterator.next(); // warm-up: let the JIT settle
  let images = 0;
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  const reuse = options.reuse ? new Float32Array(128 * imageSize(split)) : undefined;
  while (performance.now() - start < 3000) images += iterator.next(reuse).shape[0];
  const cpu = process.cpuUsage(cpuStart);
  return {
    wall: images / ((performance.now() - start) / 1000),
    cpu: images / ((cpu.user + cpu.system) / 1e6),
  };
}

console.log(
  `load average at start: ${loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')} (shared machine)`,
);

const rng = Rng.fromSeed(0);
const count = 10_000;
const cifarLike: ImageSplit = {
  images: Uint8Array.from({ length: count * 32 * 32 * 3 }, () => rng.nextInt(256)),
  labels: Int32Array.from({ length: count }, () => rng.nextInt(10)),
  count,
  height: 32,
  width: 32,
  channels: 3,
};
const normalize = { mean: [0.4914, 0.4822, 0.4465], std: [0.247, 0.2435, 0.2616] };
const augmented = pipelineRate(cifarLike, { augment: true, normalize });
const reused = pipelineRate(cifarLike, { augment: true, normalize, reuse: true });
const plain = pipelineRate(cifarLike, { normalize });
const show = (r: { wall: number; cpu: number }): string =>
  `${format(r.wall)} images/s wall, ${format(r.cpu)} images per CPU-second`;
console.log(
  `batch pipeline 32x32x3, batch 128, crop+flip+normalize: ${show(augmented)} (target >= 20,000/s)`,
);
console.log(`  same, next(into) reusing one output buffer:          ${show(reused)}`);
console.log(`batch pipeline 32x32x3, batch 128, normalize only:      ${show(plain)}`);

const embedded = await timed(() => loadDataset('default'));
console.log(`load embedded fashion-mnist-embedded (10,000 + 2,000): ${embedded.seconds.toFixed(2)} s`);

const system = CATALOG['fashion-mnist'].systemDirs[0]!;
if (existsSync(join(system, 'train-images-idx3-ubyte.gz'))) {
  for (let run = 1; run <= 2; run++) {
    const full = await timed(() => loadDataset('fashion-mnist', { dir: system }));
    console.log(
      `load full Fashion-MNIST (60,000 + 10,000) from ${system}, run ${run}: ${full.seconds.toFixed(2)} s`,
    );
  }
} else {
  console.log(
    `full Fashion-MNIST: not measured, ${system} is absent (apt-get install dataset-fashion-mnist)`,
  );
}

const { dir, cleanup } = await makeTempDir('bench-tiny');
try {
  // Warm-up on a tiny copy first: loading libvips costs a fixed CPU half-second or so.
  await writeTinyImageNet(join(dir, 'warm'), 2, 2);
  await loadDataset('tinyimagenet', { dir: join(dir, 'warm'), cache: false });
  await writeTinyImageNet(join(dir, 'tiny'), 50, 40);
  const cpuStart = process.cpuUsage();
  const decode = await timed(() => loadDataset('tinyimagenet', { dir: join(dir, 'tiny') }));
  const cpu = process.cpuUsage(cpuStart);
  const n = decode.value.train.count + decode.value.test.count;
  const perCpuSecond = n / ((cpu.user + cpu.system) / 1e6);
  console.log(
    `TinyImageNet first load (decode ${n} 64x64 JPEGs + write cache): ${format(n / decode.seconds)} images/s wall, ` +
      `${format(perCpuSecond)} per CPU-second (all 110,000: ~${Math.round(110_000 / perCpuSecond / 60)} CPU-minutes)`,
  );
  const cached = await timed(() => loadDataset('tinyimagenet', { dir: join(dir, 'tiny') }));
  console.log(`TinyImageNet cached load: ${format(n / cached.seconds)} images/s`);
} finally {
  await cleanup();
}
