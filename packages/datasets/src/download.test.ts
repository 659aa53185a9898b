import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tar from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DownloadResource } from './catalog.js';
import { type DownloadProgress, downloadDataset, INSTALL_MARKER } from './download.js';
import { type FixtureServer, startFixtureServer } from './fixtures/server.js';
import { makeTempDir, writeCifar10, writeIdxDataset, writeTinyImageNet } from './fixtures/write.js';
import { zipStored } from './fixtures/zip.js';
import { md5Hex } from './formats/files.js';
import { loadDataset } from './load.js';

let server: FixtureServer;
let work: string;
let cleanup: () => Promise<void>;
let cifarArchive: Uint8Array;
let tinyZip: Uint8Array;

async function zipDirectory(dir: string, prefix: string): Promise<Uint8Array> {
  const entries: { name: string; data: Uint8Array }[] = [];
  const walk = async (rel: string): Promise<void> => {
    for (const entry of await readdir(join(dir, rel), { withFileTypes: true })) {
      const path = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) await walk(path);
      else entries.push({ name: `${prefix}/${path}`, data: await readFile(join(dir, path)) });
    }
  };
  await walk('');
  return zipStored(entries);
}

beforeAll(async () => {
  ({ dir: work, cleanup } = await makeTempDir('download'));
  server = await startFixtureServer();
  await writeCifar10(join(work, 'src', 'cifar-10-batches-bin'), 2, 3);
  await tar.c({ gzip: true, cwd: join(work, 'src'), file: join(work, 'cifar.tar.gz') }, [
    'cifar-10-batches-bin',
  ]);
  cifarArchive = await readFile(join(work, 'cifar.tar.gz'));
  await writeTinyImageNet(join(work, 'src', 'tiny'), 2, 1);
  tinyZip = await zipDirectory(join(work, 'src', 'tiny'), 'tiny-imagenet-200');
});
afterAll(async () => {
  await server.close();
  await cleanup();
});

const cifarResource = (body: Uint8Array, filename = 'cifar-10-binary.tar.gz'): DownloadResource => ({
  url: `https://example.invalid/${filename}`,
  filename,
  md5: md5Hex(body),
  kind: 'tar.gz',
});

/** Everything left in a download root: the installed dataset folder only, after a clean finish. */
const leftovers = async (root: string): Promise<string[]> => {
  const out: string[] = [];
  for (const entry of existsSync(root) ? await readdir(root) : []) {
    out.push(entry);
    if (entry === '.partial') out.push(...(await readdir(join(root, entry))).map((f) => `.partial/${f}`));
  }
  return out.sort();
};

describe('downloadDataset against a local HTTP server', () => {
  it('downloads, checks md5, extracts a tar.gz and installs it where loadDataset finds it', async () => {
    const root = join(work, 'good');
    server.routes.set('/files/cifar-10-binary.tar.gz', { body: cifarArchive });
    const progress: DownloadProgress[] = [];
    const result = await downloadDataset('cifar10', {
      root,
      baseUrl: server.baseUrl,
      resources: [cifarResource(cifarArchive)],
      onProgress: (p) => progress.push(p),
    });
    expect(result.alreadyPresent).toBe(false);
    expect(result.dir).toBe(join(root, 'cifar10'));
    expect(result.files[0]).toMatchObject({
      bytes: cifarArchive.length,
      resumedFrom: 0,
      md5: md5Hex(cifarArchive),
    });
    expect(progress.filter((p) => p.phase === 'download').at(-1)).toMatchObject({
      received: cifarArchive.length,
      total: cifarArchive.length,
    });
    expect(progress.map((p) => p.phase)).toContain('extract');
    expect(await leftovers(root)).toEqual(['.partial', 'cifar10']);
    expect(existsSync(join(root, 'cifar10', INSTALL_MARKER))).toBe(true);
    const data = await loadDataset('cifar10', { env: { FISHERLAB_DATA: root }, homeDir: join(work, 'home') });
    expect(data.meta.dir).toBe(join(root, 'cifar10', 'cifar-10-batches-bin'));
    expect(data.train.count).toBe(10);
    const again = await downloadDataset('cifar10', {
      root,
      baseUrl: server.baseUrl,
      resources: [cifarResource(cifarArchive)],
    });
    expect(again.alreadyPresent).toBe(true);
  });

  it('a truncated transfer leaves no dataset; the next call resumes with a Range request and finishes', async () => {
    const root = join(work, 'resume');
    const cut = Math.floor(cifarArchive.length / 2);
    server.routes.set('/files/resume.tar.gz', { body: cifarArchive, cutFirstAfter: cut });
    const options = {
      root,
      baseUrl: server.baseUrl,
      resources: [cifarResource(cifarArchive, 'resume.tar.gz')],
    };
    await expect(downloadDataset('cifar10', options)).rejects.toThrow(
      /resume\.tar\.gz: expected \d+ bytes, found (the connection ended after|\d+ bytes \(truncated).*Fix: run the same download again \(a partial download resumes/,
    );
    expect(existsSync(join(root, 'cifar10'))).toBe(false);
    await expect(
      loadDataset('cifar10', { env: { FISHERLAB_DATA: root }, homeDir: join(work, 'home') }),
    ).rejects.toThrow(/dir: expected dataset 'cifar10' [\s\S]*found none of them/);
    const result = await downloadDataset('cifar10', options);
    expect(result.files[0]!.resumedFrom).toBeGreaterThan(0);
    expect(result.files[0]!.resumedFrom).toBeLessThanOrEqual(cut);
    const ranges = server.requests.filter((r) => r.path === '/files/resume.tar.gz').map((r) => r.range);
    expect(ranges).toEqual([undefined, `bytes=${result.files[0]!.resumedFrom}-`]);
    expect(await leftovers(root)).toEqual(['.partial', 'cifar10']);
    expect((await loadDataset('cifar10', { dir: join(root, 'cifar10') })).test.count).toBe(3);
  });

  it('a wrong checksum deletes the download and installs nothing; the catalog applies the published md5', async () => {
    const root = join(work, 'corrupt');
    const tampered = Uint8Array.from(cifarArchive);
    tampered[100] = tampered[100]! ^ 0xff;
    server.routes.set('/files/cifar-10-binary.tar.gz', { body: tampered });
    await expect(
      downloadDataset('cifar10', { root, baseUrl: server.baseUrl, resources: [cifarResource(cifarArchive)] }),
    ).rejects.toThrow(
      /expected md5 [0-9a-f]{32} \(the published checksum\), found md5 [0-9a-f]{32}.*has been deleted/,
    );
    expect(await leftovers(root)).toEqual(['.partial']);
    // Without an override the official checksum is the one checked.
    await expect(downloadDataset('cifar10', { root, baseUrl: server.baseUrl })).rejects.toThrow(
      /expected md5 c32a1d4ab5d03f1284b67883e8d87530/,
    );
    server.routes.set('/files/cifar-10-binary.tar.gz', { body: cifarArchive });
  });

  it('an archive with the right md5 that fails to extract leaves nothing behind', async () => {
    const root = join(work, 'badarchive');
    const garbage = new TextEncoder().encode('definitely not gzip data');
    server.routes.set('/files/garbage.tar.gz', { body: garbage });
    await expect(
      downloadDataset('cifar10', {
        root,
        baseUrl: server.baseUrl,
        resources: [cifarResource(garbage, 'garbage.tar.gz')],
      }),
    ).rejects.toThrow(/garbage\.tar\.gz: expected a readable tar\.gz archive/);
    expect(await leftovers(root)).toEqual(['.partial']);
  });

  it('extracts a zip (TinyImageNet layout) with yauzl and plain files (IDX) as they are', async () => {
    const root = join(work, 'zip');
    server.routes.set('/files/tiny-imagenet-200.zip', { body: tinyZip });
    await downloadDataset('tinyimagenet', {
      root,
      baseUrl: server.baseUrl,
      resources: [{ url: 'x', filename: 'tiny-imagenet-200.zip', md5: md5Hex(tinyZip), kind: 'zip' }],
    });
    const tiny = await loadDataset('tinyimagenet', {
      env: { FISHERLAB_DATA: root },
      homeDir: join(work, 'home'),
    });
    expect(tiny.meta.dir).toBe(join(root, 'tinyimagenet', 'tiny-imagenet-200'));
    expect(tiny.train.count).toBe(2);

    await writeIdxDataset(join(work, 'src', 'idx'), { trainCount: 3, testCount: 2, gzip: true });
    const resources: DownloadResource[] = [];
    for (const file of await readdir(join(work, 'src', 'idx'))) {
      const body = await readFile(join(work, 'src', 'idx', file));
      server.routes.set(`/files/${file}`, { body });
      resources.push({ url: 'x', filename: file, md5: md5Hex(body), kind: 'file' });
    }
    await downloadDataset('fashion-mnist', { root, baseUrl: server.baseUrl, resources });
    const fashion = await loadDataset('fashion-mnist', { dir: join(root, 'fashion-mnist') });
    expect(fashion.train.count).toBe(3);
  });

  it('a stalled transfer is abandoned after stallTimeoutMs, keeping the partial file for a resume', async () => {
    const root = join(work, 'stall');
    server.routes.set('/files/stall.tar.gz', { body: cifarArchive, stallAfter: 1000 });
    const options = {
      root,
      baseUrl: server.baseUrl,
      resources: [cifarResource(cifarArchive, 'stall.tar.gz')],
      stallTimeoutMs: 400,
    };
    await expect(downloadDataset('cifar10', options)).rejects.toThrow(
      /stall\.tar\.gz: expected \d+ bytes, found the connection ended after/,
    );
    expect(await leftovers(root)).toEqual(['.partial', '.partial/cifar10--stall.tar.gz.part']);
  });

  it('never replaces a folder it did not install unless forced', async () => {
    const root = join(work, 'manual');
    await writeCifar10(join(root, 'cifar10'), 1, 1);
    server.routes.set('/files/cifar-10-binary.tar.gz', { body: cifarArchive });
    const options = { root, baseUrl: server.baseUrl, resources: [cifarResource(cifarArchive)] };
    await expect(downloadDataset('cifar10', options)).rejects.toThrow(
      /cifar10: expected no folder, or one installed by downloadDataset\(\), found a folder without \.fisherlab-download\.json\. Fix: .*options\.force/,
    );
    expect(existsSync(join(root, 'cifar10', 'data_batch_1.bin'))).toBe(true);
    const forced = await downloadDataset('cifar10', { ...options, force: true });
    expect(forced.alreadyPresent).toBe(false);
    expect(await readdir(join(root, 'cifar10'))).toEqual([INSTALL_MARKER, 'cifar-10-batches-bin'].sort());
    expect(await leftovers(root)).toEqual(['.partial', 'cifar10']);
  });

  it('an HTTP error names the URL and status; the embedded dataset has nothing to download', async () => {
    await expect(
      downloadDataset('cifar10', { root: join(work, 'http'), baseUrl: `${server.baseUrl}/missing` }),
    ).rejects.toThrow(/missing\/cifar-10-binary\.tar\.gz: expected HTTP 200 .*, found HTTP 404/);
    await expect(downloadDataset('default', { root: join(work, 'http') })).rejects.toThrow(
      /nothing to download/,
    );
  });
});
