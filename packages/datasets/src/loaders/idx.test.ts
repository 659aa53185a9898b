import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { InputError } from '@fisherlab/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idxPixel, makeTempDir, writeIdxDataset } from '../fixtures/write.js';
import { loadDataset } from '../load.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ dir, cleanup } = await makeTempDir('idx'));
});
afterAll(() => cleanup());

describe('IDX loaders (fashion-mnist, mnist)', () => {
  it.each([true, false])(
    'reads gzipped=%s IDX files: pixels, labels, counts, stats exactly',
    async (gzip) => {
      const at = join(dir, `plain-${gzip}`);
      await writeIdxDataset(at, { trainCount: 12, testCount: 5, gzip });
      const data = await loadDataset('fashion-mnist', { dir: at });
      expect(data.train.count).toBe(12);
      expect(data.test.count).toBe(5);
      expect([data.train.height, data.train.width, data.train.channels]).toEqual([28, 28, 1]);
      for (let i = 0; i < 12; i++) {
        expect(data.train.labels[i]).toBe(i % 10);
        for (const [y, x] of [
          [0, 0],
          [3, 17],
          [27, 27],
        ] as const) {
          expect(data.train.images[i * 784 + y * 28 + x]).toBe(idxPixel(i, y, x));
        }
      }
      expect(Array.from(data.test.labels)).toEqual([0, 1, 2, 3, 4]);
      expect(data.test.images[2 * 784 + 5 * 28 + 9]).toBe(idxPixel(502, 5, 9));
      // Mean and std against a direct two-pass computation.
      const values = Array.from(data.train.images, (v) => v / 255);
      const mean = values.reduce((a, b) => a + b, 0) / values.length;
      const std = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
      expect(data.meta.mean[0]).toBeCloseTo(mean, 12);
      expect(data.meta.std[0]).toBeCloseTo(std, 12);
      expect(data.meta.counts).toEqual({ train: 12, test: 5 });
      expect(data.meta.sourceFiles).toHaveLength(4);
      expect(Object.values(data.meta.checksums).every((m) => /^[0-9a-f]{32}$/.test(m))).toBe(true);
      expect(data.classNames[9]).toBe('Ankle boot');
    },
  );

  it('mnist has digit class names', async () => {
    const at = join(dir, 'mnist');
    await writeIdxDataset(at, { trainCount: 3, testCount: 2, gzip: true });
    expect((await loadDataset('mnist', { dir: at })).classNames).toEqual([
      '0',
      '1',
      '2',
      '3',
      '4',
      '5',
      '6',
      '7',
      '8',
      '9',
    ]);
  });

  it('bad input: missing file, wrong magic, truncated raw and truncated gzip each name the file and the fix', async () => {
    const at = join(dir, 'bad');
    await writeIdxDataset(at, { trainCount: 4, testCount: 2, gzip: true });
    const labels = join(at, 't10k-labels-idx1-ubyte.gz');
    await rename(labels, `${labels}.away`);
    await expect(loadDataset('fashion-mnist', { dir: at })).rejects.toThrow(
      new RegExp(
        `${labels}: expected the file to exist, found no such file\\. Fix: download it again with downloadDataset`,
      ),
    );
    await rename(`${labels}.away`, labels);

    const images = join(at, 'train-images-idx3-ubyte.gz');
    const good = await readFile(images);
    const raw = gunzipSync(good);
    const wrongMagic = Buffer.from(raw);
    wrongMagic.writeUInt32BE(0x00000801, 0);
    await writeFile(images, gzipSync(wrongMagic));
    const magic = await loadDataset('fashion-mnist', { dir: at }).catch((e: unknown) => e);
    expect(magic).toBeInstanceOf(InputError);
    expect((magic as InputError).file).toBe(images);
    expect((magic as Error).message).toMatch(/expected IDX images magic number 0x00000803, found 0x00000801/);

    await writeFile(images, gzipSync(raw.subarray(0, raw.length - 100)));
    await expect(loadDataset('fashion-mnist', { dir: at })).rejects.toThrow(
      /expected 3152 bytes \(16-byte header \+ 4 images of 28x28\), found 3052 bytes \(truncated\)\. Fix: download it again with downloadDataset/,
    );

    await writeFile(images, good.subarray(0, good.length - 50));
    await expect(loadDataset('fashion-mnist', { dir: at })).rejects.toThrow(
      /expected a complete gzip stream.*truncated or corrupt/,
    );

    await writeFile(images, good);
    await rm(join(at, 'train-labels-idx1-ubyte.gz'));
    await writeFile(join(at, 'train-labels-idx1-ubyte'), Buffer.from([0, 0, 8, 1, 0, 0, 0, 4, 1, 2, 3, 11]));
    await expect(loadDataset('fashion-mnist', { dir: at })).rejects.toThrow(
      /expected labels in 0\.\.9, found label 11 at index 3/,
    );
  });
});

describe('the embedded default', () => {
  it("loadDataset('default') is the class-balanced 10,000 / 2,000 Fashion-MNIST subset inside the package", async () => {
    const data = await loadDataset('default');
    expect(data.name).toBe('fashion-mnist-embedded');
    expect(data.train.count).toBe(10_000);
    expect(data.test.count).toBe(2_000);
    const perClass = (labels: Int32Array): number[] => {
      const n = new Array<number>(10).fill(0);
      for (const l of labels) n[l]!++;
      return n;
    };
    expect(perClass(data.train.labels)).toEqual(new Array(10).fill(1000));
    expect(perClass(data.test.labels)).toEqual(new Array(10).fill(200));
    // Real images, not noise: Fashion-MNIST's published train mean/std are about 0.286 / 0.353.
    expect(data.meta.mean[0]).toBeCloseTo(0.286, 2);
    expect(data.meta.std[0]).toBeCloseTo(0.353, 2);
    const manifest = JSON.parse(await readFile(join(data.meta.dir, 'manifest.json'), 'utf8'));
    expect(manifest.trainIndices).toHaveLength(10_000);
    expect(await readFile(join(data.meta.dir, 'LICENSE'), 'utf8')).toMatch(
      /Zalando SE[\s\S]*MIT License|MIT License[\s\S]*Zalando SE/,
    );
  });
});
