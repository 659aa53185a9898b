import { mkdir, readdir, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '@fisherlab/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, type TinyFixture, writeTinyImageNet } from '../fixtures/write.js';
import { loadDataset } from '../load.js';
import type { ImageSplit } from '../types.js';
import { TINYIMAGENET_CACHE_NAME, type TinyImageNetProgress } from './tinyimagenet.js';

let root: string;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ dir: root, cleanup } = await makeTempDir('tiny'));
});
afterAll(() => cleanup());

/** Every pixel of image i within `tolerance` of its flat color (JPEG rounds by a step at most). */
function expectColors(split: ImageSplit, colors: [number, number, number][], tolerance: number): void {
  expect(split.count).toBe(colors.length);
  colors.forEach((rgb, i) => {
    for (let p = 0; p < 64 * 64; p += 97) {
      for (let c = 0; c < 3; c++) {
        const value = split.images[i * 64 * 64 * 3 + p * 3 + c]!;
        expect(Math.abs(value - rgb[c]!), `image ${i} pixel ${p} channel ${c}`).toBeLessThanOrEqual(
          tolerance,
        );
      }
    }
  });
}

describe('TinyImageNet-200', () => {
  let fixture: TinyFixture;
  let dir: string;
  beforeAll(async () => {
    dir = join(root, 'good', 'tiny-imagenet-200');
    fixture = await writeTinyImageNet(dir, 3, 3);
  });

  it('decodes real JPEGs (grayscale to RGB), labels = wnids.txt line order, val labels from annotations', async () => {
    const progress: TinyImageNetProgress[] = [];
    const data = await loadDataset('tinyimagenet', {
      dir: join(root, 'good'),
      onProgress: (p) => progress.push(p),
    });
    expect(data.classNames).toEqual(['thing 0, object', 'thing 1, object', 'thing 2, object']);
    expect(Array.from(data.train.labels)).toEqual(fixture.trainLabels);
    expect(Array.from(data.test.labels)).toEqual(fixture.valLabels);
    expect([data.train.height, data.train.width, data.train.channels]).toEqual([64, 64, 3]);
    // The grayscale JPEG (class 1, first file) decodes exactly with R = G = B.
    const gray = 3 * 64 * 64 * 3;
    expect(data.train.images[gray]).toBe(fixture.trainColors[3]![0]);
    expect(data.train.images[gray + 1]).toBe(data.train.images[gray]);
    expect(data.train.images[gray + 2]).toBe(data.train.images[gray]);
    expectColors(data.train, fixture.trainColors, 2);
    expectColors(data.test, fixture.valColors, 2);
    const last = progress.filter((p) => p.phase === 'decode').at(-1);
    expect(last).toEqual({ phase: 'decode', done: 15, total: 15 });
    expect(progress.some((p) => p.phase === 'cache-write')).toBe(true);
    expect((await stat(join(dir, TINYIMAGENET_CACHE_NAME))).size).toBeGreaterThan(15 * 64 * 64 * 3);
    expect(data.meta.notes?.join(' ')).toMatch(/labeled val split/);
  });

  it('a second load reads the cache (same pixels, no decode) and a changed listing rebuilds it', async () => {
    const first = await loadDataset('tinyimagenet', { dir, cache: false });
    const phases: string[] = [];
    const cached = await loadDataset('tinyimagenet', { dir, onProgress: (p) => phases.push(p.phase) });
    expect(phases).toEqual(['cache-read']);
    expect(cached.train.images).toEqual(first.train.images);
    expect(cached.test.labels).toEqual(first.test.labels);
    expect(cached.meta.checksums['decoded pixels (train+val)']).toBe(
      first.meta.checksums['decoded pixels (train+val)'],
    );
    // No temporary files left next to the data by the atomic write.
    expect((await readdir(dir)).filter((f) => f.includes('.tmp-'))).toEqual([]);
    // A damaged (truncated) cache is ignored and rewritten.
    const cachePath = join(dir, TINYIMAGENET_CACHE_NAME);
    await truncate(cachePath, (await stat(cachePath)).size - 10);
    const damaged: string[] = [];
    const redecoded = await loadDataset('tinyimagenet', { dir, onProgress: (p) => damaged.push(p.phase) });
    expect(damaged).toContain('decode');
    expect(redecoded.train.images).toEqual(first.train.images);
    const again: string[] = [];
    await loadDataset('tinyimagenet', { dir, onProgress: (p) => again.push(p.phase) });
    expect(again).toEqual(['cache-read']);
    // Dropping a val line changes the listing: the stale cache is ignored.
    await writeFile(
      join(dir, 'val', 'val_annotations.txt'),
      'val_0.JPEG\tn09000000\t0\t0\t63\t63\nval_1.JPEG\tn07000000\t0\t0\t63\t63\n',
    );
    const rebuilt: string[] = [];
    const smaller = await loadDataset('tinyimagenet', { dir, onProgress: (p) => rebuilt.push(p.phase) });
    expect(smaller.test.count).toBe(2);
    expect(rebuilt).toContain('decode');
  });

  it('falls back to a cache in the home folder when none can be written next to the data, or skips it', async () => {
    const dir2 = join(root, 'fallback');
    await writeTinyImageNet(dir2, 2, 1);
    // A directory where the cache file would go makes writing it there fail.
    await mkdir(join(dir2, TINYIMAGENET_CACHE_NAME, 'blocker'), { recursive: true });
    const home = join(root, 'home');
    const first = await loadDataset('tinyimagenet', { dir: dir2, homeDir: home });
    const cacheDir = join(home, '.cache', 'fisherlab', 'datasets', 'tinyimagenet-cache');
    expect(await readdir(cacheDir)).toHaveLength(1);
    const phases: string[] = [];
    const second = await loadDataset('tinyimagenet', {
      dir: dir2,
      homeDir: home,
      onProgress: (p) => phases.push(p.phase),
    });
    expect(phases).toEqual(['cache-read']);
    expect(second.train.images).toEqual(first.train.images);

    const skipped: TinyImageNetProgress[] = [];
    const cacheFile = join(dir2, 'wnids.txt', 'cache.bin'); // under a file: cannot be created
    const third = await loadDataset('tinyimagenet', {
      dir: dir2,
      cacheFile,
      onProgress: (p) => skipped.push(p),
    });
    expect(third.train.images).toEqual(first.train.images);
    expect(skipped.at(-1)).toMatchObject({
      phase: 'cache-skipped',
      reason: expect.stringContaining(cacheFile),
    });
  });

  it('bad input: class directory not in wnids.txt, unknown val wnid, undecodable JPEG, missing image', async () => {
    const bad = join(root, 'bad');
    await writeTinyImageNet(bad, 2, 1);
    await mkdir(join(bad, 'train', 'n01234567', 'images'), { recursive: true });
    const stray = await loadDataset('tinyimagenet', { dir: bad }).catch((e: unknown) => e);
    expect(stray).toBeInstanceOf(InputError);
    expect((stray as Error).message).toMatch(
      /train\/n01234567: expected a class directory named in .*wnids\.txt \(2 ids\), found 'n01234567', which wnids\.txt does not list\. Fix: remove the stray directory, or re-extract/,
    );
    await rm(join(bad, 'train', 'n01234567'), { recursive: true });

    const annotations = join(bad, 'val', 'val_annotations.txt');
    await writeFile(annotations, 'val_0.JPEG\tn09000000\t0\t0\t1\t1\nval_1.JPEG\tn00000042\t0\t0\t1\t1\n');
    await expect(loadDataset('tinyimagenet', { dir: bad })).rejects.toThrow(
      /val_annotations\.txt line 2: expected file<TAB>wnid.* listed in wnids\.txt, found 'val_1\.JPEG\tn00000042/,
    );
    await writeFile(annotations, 'val_0.JPEG\tn09000000\t0\t0\t1\t1\n');

    const broken = join(bad, 'train', 'n08000000', 'images', 'n08000000_0.JPEG');
    await writeFile(broken, Buffer.from('this is not a jpeg at all'));
    await expect(loadDataset('tinyimagenet', { dir: bad, cache: false })).rejects.toThrow(
      new RegExp(
        `${broken}: expected a decodable JPEG, found an undecodable file .*Fix: download it again with downloadDataset`,
      ),
    );
    await rm(broken);
    await writeFile(annotations, 'val_0.JPEG\tn09000000\t0\t0\t1\t1\nval_9.JPEG\tn09000000\t0\t0\t1\t1\n');
    await expect(loadDataset('tinyimagenet', { dir: bad, cache: false })).rejects.toThrow(
      /val_9\.JPEG: expected the file to exist, found no such file/,
    );
  });
});
