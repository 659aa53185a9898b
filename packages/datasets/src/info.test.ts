import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, writeCifar10, writeIdxDataset, writeTinyImageNet } from './fixtures/write.js';
import { datasetInfo, locateAllDatasets, verifyDataset } from './info.js';

let root: string;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ dir: root, cleanup } = await makeTempDir('info'));
});
afterAll(() => cleanup());

const nowhere = () => ({ env: {}, homeDir: join(root, 'empty-home') });

describe('datasetInfo and verifyDataset', () => {
  it('info tells the published facts and where the data is (or every place searched)', async () => {
    const missing = await datasetInfo('cifar100', nowhere());
    expect(missing.dir).toBeNull();
    expect(missing.searched.length).toBeGreaterThan(0);
    expect(missing.counts).toEqual({ train: 50_000, test: 10_000 });
    expect(missing.resources[0]).toMatchObject({
      url: 'https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz',
      md5: '03b5dce01913d631647c71ecec9e9cb8',
    });
    const embedded = await datasetInfo('default');
    expect(embedded.source).toBe('embedded');
    expect(embedded.shape).toEqual({ height: 28, width: 28, channels: 1 });
  });

  it('the embedded subset verifies: counts, classes and content checksums against its manifest', async () => {
    const report = await verifyDataset('default');
    expect(report.ok).toBe(true);
    expect(report.checks.map((c) => c.check)).toEqual(
      expect.arrayContaining([
        'found',
        'train count',
        'test classes',
        'content md5 train-images-idx3-ubyte.gz',
      ]),
    );
  });

  it('a partial copy fails on counts; a damaged file fails on reading; nothing throws', async () => {
    const dir = join(root, 'c10');
    await writeCifar10(dir, 2, 2);
    const partial = await verifyDataset('cifar10', { dir });
    expect(partial.ok).toBe(false);
    expect(partial.checks.find((c) => c.check === 'train count')).toEqual({
      check: 'train count',
      ok: false,
      detail: '10, expected 50000 (truncated or partial copy: re-download)',
    });
    expect(partial.checks.find((c) => c.check === 'shape')?.ok).toBe(true);
    await writeFile(join(dir, 'test_batch.bin'), new Uint8Array(100));
    const damaged = await verifyDataset('cifar10', { dir });
    expect(damaged.checks.at(-1)).toMatchObject({ check: 'read', ok: false });
    expect(damaged.checks.at(-1)!.detail).toMatch(
      /test_batch\.bin: expected a whole number of 3073-byte records/,
    );
    const absent = await verifyDataset('mnist', nowhere());
    expect(absent).toMatchObject({ ok: false, dir: null, checks: [{ check: 'found', ok: false }] });
  });

  it('Fashion-MNIST content is checked against the known content md5 (a fixture is not the real data)', async () => {
    const dir = join(root, 'fm');
    await writeIdxDataset(dir, { trainCount: 10, testCount: 10, gzip: true });
    const report = await verifyDataset('fashion-mnist', { dir });
    const content = report.checks.find((c) => c.check === 'content md5 train-labels-idx1-ubyte.gz');
    expect(content?.ok).toBe(false);
    expect(content?.detail).toMatch(/expected 9018921c3c673c538a1fc5bad174d6f9/);
    // Recompressing does not change the content checksum.
    const labels = join(dir, 'train-labels-idx1-ubyte.gz');
    const before = report.checks
      .find((c) => c.check.startsWith('content md5 train-labels'))!
      .detail.slice(0, 32);
    await writeFile(labels, gzipSync(gunzipSync(await readFile(labels)), { level: 1 }));
    const after = (await verifyDataset('fashion-mnist', { dir })).checks.find((c) =>
      c.check.startsWith('content md5 train-labels'),
    )!;
    expect(after.detail.slice(0, 32)).toBe(before);
  });

  it('TinyImageNet verifies its listing without decoding by default', async () => {
    const dir = join(root, 'tiny');
    await writeTinyImageNet(dir, 2, 1);
    const report = await verifyDataset('tinyimagenet', { dir });
    expect(report.checks.find((c) => c.check === 'train count')?.detail).toBe(
      '2, expected 100000 (truncated or partial copy: re-download)',
    );
    expect(report.checks.find((c) => c.check === 'train classes')).toMatchObject({
      ok: false,
      detail: 'classes 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, ... have no examples',
    });
    expect(report.checks.find((c) => c.check === 'wnids')).toMatchObject({ ok: false, detail: '2 ids' });
  });

  it('locateAllDatasets lists every dataset for doctor', () => {
    const all = locateAllDatasets(nowhere());
    expect(all.map((d) => d.name)).toEqual([
      'fashion-mnist-embedded',
      'fashion-mnist',
      'mnist',
      'cifar10',
      'cifar100',
      'tinyimagenet',
    ]);
    expect(all[0]!.found).not.toBeNull();
    expect(all.find((d) => d.name === 'cifar10')).toEqual({
      name: 'cifar10',
      found: null,
      note: 'fisherlab data download cifar10',
    });
  });
});
