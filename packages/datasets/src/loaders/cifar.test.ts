import { appendFile, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CIFAR10_NAMES,
  cifarPixel,
  cifarRecord,
  makeTempDir,
  writeCifar10,
  writeCifar100,
} from '../fixtures/write.js';
import { loadDataset } from '../load.js';

let root: string;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ dir: root, cleanup } = await makeTempDir('cifar'));
});
afterAll(() => cleanup());

/** NHWC byte of image i at (y, x, channel c) as the loader must return it. */
const at = (images: Uint8Array, i: number, y: number, x: number, c: number): number =>
  images[i * 3072 + (y * 32 + x) * 3 + c]!;

describe('CIFAR-10 binary', () => {
  it('reads batches 1..5 in order then test: labels, and R, G, B planes to NHWC exactly', async () => {
    const dir = join(root, 'c10', 'cifar-10-batches-bin');
    await writeCifar10(dir, 3, 4);
    // The archive's folder is found below the given directory.
    const data = await loadDataset('cifar10', { dir: join(root, 'c10') });
    expect(data.train.count).toBe(15);
    expect(data.test.count).toBe(4);
    expect(data.classNames).toEqual(CIFAR10_NAMES);
    expect(Array.from(data.train.labels)).toEqual(Array.from({ length: 15 }, (_, i) => i % 10));
    expect(Array.from(data.test.labels)).toEqual([0, 3, 6, 9]);
    for (let i = 0; i < 15; i++) {
      const want = cifarPixel(i);
      for (let y = 0; y < 32; y += 5) {
        for (let x = 0; x < 32; x += 3) {
          for (let c = 0; c < 3; c++) expect(at(data.train.images, i, y, x, c)).toBe(want(c, y, x));
        }
      }
    }
    expect(at(data.test.images, 2, 31, 30, 1)).toBe(cifarPixel(1002)(1, 31, 30));
    // A record whose planes are pure R: the first channel of every pixel carries it.
    const red = cifarRecord([4], (c) => (c === 0 ? 200 : c === 1 ? 20 : 2));
    await writeFile(join(dir, 'test_batch.bin'), red);
    const one = await loadDataset('cifar10', { dir });
    expect(Array.from(one.test.images.subarray(0, 6))).toEqual([200, 20, 2, 200, 20, 2]);
    expect(one.test.labels[0]).toBe(4);
    expect(Object.keys(one.meta.checksums)).toEqual([
      'data_batch_1.bin',
      'data_batch_2.bin',
      'data_batch_3.bin',
      'data_batch_4.bin',
      'data_batch_5.bin',
      'test_batch.bin',
    ]);
    expect(one.meta.mean).toHaveLength(3);
  });

  it('bad input: truncated record, missing batch, label out of range', async () => {
    const dir = join(root, 'c10bad');
    await writeCifar10(dir, 2, 2);
    const file = join(dir, 'data_batch_3.bin');
    const bytes = await readFile(file);
    await writeFile(file, bytes.subarray(0, 3073 + 1000));
    await expect(loadDataset('cifar10', { dir })).rejects.toThrow(
      new RegExp(
        `${file}: expected a whole number of 3073-byte records .*, found 4073 bytes = 1 records \\+ 1000 bytes \\(truncated or not a CIFAR binary file\\)\\. Fix: download it again with downloadDataset`,
      ),
    );
    await writeFile(file, bytes);
    await rm(join(dir, 'data_batch_5.bin'));
    await expect(loadDataset('cifar10', { dir })).rejects.toThrow(
      /data_batch_5\.bin: expected the file to exist/,
    );
    await writeFile(join(dir, 'data_batch_5.bin'), cifarRecord([10], cifarPixel(0)));
    await expect(loadDataset('cifar10', { dir })).rejects.toThrow(
      /expected label byte 0 in 0\.\.9, found 10 in record 0/,
    );
  });
});

describe('CIFAR-100 binary', () => {
  it('fine labels by default, coarse on request, pixels as CIFAR-10', async () => {
    const dir = join(root, 'c100');
    await writeCifar100(dir, 6, 3);
    const fine = await loadDataset('cifar100', { dir });
    expect(Array.from(fine.train.labels)).toEqual([0, 7, 14, 21, 28, 35]);
    expect(Array.from(fine.test.labels)).toEqual([5000, 5001, 5002].map((i) => (i * 7) % 100));
    expect(fine.classNames).toHaveLength(100);
    expect(fine.classNames[7]).toBe('fine7');
    const coarse = await loadDataset('cifar-100', { dir, labels: 'coarse' });
    expect(Array.from(coarse.train.labels)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(coarse.classNames).toHaveLength(20);
    for (let i = 0; i < 6; i++) {
      for (let c = 0; c < 3; c++) expect(at(fine.train.images, i, 17, 29, c)).toBe(cifarPixel(i)(c, 17, 29));
    }
    expect(coarse.train.images).toEqual(fine.train.images);
  });

  it('bad input: a CIFAR-10 file given as CIFAR-100 (record size does not divide)', async () => {
    const dir = join(root, 'c100bad');
    await writeCifar100(dir, 2, 1);
    await appendFile(join(dir, 'train.bin'), new Uint8Array(5));
    await expect(loadDataset('cifar100', { dir })).rejects.toThrow(
      /train\.bin: expected a whole number of 3074-byte records \(2 label bytes \+ 3072 pixels\), found 6153 bytes = 2 records \+ 5 bytes/,
    );
  });
});
