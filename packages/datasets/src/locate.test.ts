import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CATALOG, resolveDatasetName } from './catalog.js';
import { makeTempDir } from './fixtures/write.js';
import { candidateDirs, defaultDataRoot, locateDataset, notFoundError } from './locate.js';

let root: string;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ dir: root, cleanup } = await makeTempDir('locate'));
});
afterAll(() => cleanup());

const touch = async (path: string): Promise<void> => {
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, '');
};

describe('where data is found', () => {
  it('searches explicit dir only when given; else $FISHERLAB_DATA/<name>, the home cache, then system dirs', () => {
    const env = { FISHERLAB_DATA: join(root, 'env') };
    const home = join(root, 'home');
    const list = candidateDirs(CATALOG['fashion-mnist'], { env, homeDir: home }).map((c) => [
      c.source,
      c.path,
    ]);
    expect(list).toEqual([
      ['env', join(root, 'env', 'fashion-mnist')],
      ['env', join(root, 'env', 'fashion-mnist', 'FashionMNIST/raw')],
      ['home-cache', join(home, '.cache', 'fisherlab', 'datasets', 'fashion-mnist')],
      ['home-cache', join(home, '.cache', 'fisherlab', 'datasets', 'fashion-mnist', 'FashionMNIST/raw')],
      ['system', '/usr/share/datasets/fashion-mnist'],
      ['system', '/usr/share/datasets/fashion-mnist/FashionMNIST/raw'],
    ]);
    expect(candidateDirs(CATALOG.cifar10, { dir: join(root, 'x'), env }).map((c) => c.source)).toEqual([
      'explicit',
      'explicit',
    ]);
    expect(defaultDataRoot({ env: {}, homeDir: home })).toBe(join(home, '.cache', 'fisherlab', 'datasets'));
    expect(defaultDataRoot({ env, homeDir: home })).toBe(join(root, 'env'));
  });

  it('finds the first candidate holding the marker file, env before the home cache', async () => {
    const env = { FISHERLAB_DATA: join(root, 'env') };
    const home = join(root, 'home');
    await touch(
      join(home, '.cache', 'fisherlab', 'datasets', 'cifar10', 'cifar-10-batches-bin', 'data_batch_1.bin'),
    );
    let found = locateDataset('cifar10', { env, homeDir: home });
    expect([found.source, found.dir]).toEqual([
      'home-cache',
      join(home, '.cache', 'fisherlab', 'datasets', 'cifar10', 'cifar-10-batches-bin'),
    ]);
    await touch(join(root, 'env', 'cifar10', 'data_batch_1.bin'));
    found = locateDataset('cifar-10', { env, homeDir: home });
    expect([found.source, found.dir]).toEqual(['env', join(root, 'env', 'cifar10')]);
    // An explicit directory is authoritative: not there means not found, even though env has it.
    const explicit = locateDataset('cifar10', { dir: join(root, 'nowhere'), env, homeDir: home });
    expect(explicit.dir).toBeNull();
    const error = notFoundError('cifar10', explicit);
    expect(error.key).toBe('dir');
    expect(error.message).toContain(join(root, 'nowhere'));
    expect(error.message).toMatch(
      /expected dataset 'cifar10' \(data_batch_1\.bin\) in one of\n[\s\S]*Fix: download it with downloadDataset\('cifar10'\)/,
    );
    expect(error.message).not.toMatch(/--|fisherlab data/);
  });

  it('resolves names and aliases, and refuses unknown names with the list', () => {
    expect(resolveDatasetName('default')).toBe('fashion-mnist-embedded');
    expect(resolveDatasetName('Tiny-ImageNet-200')).toBe('tinyimagenet');
    expect(() => resolveDatasetName('imagenet')).toThrow(
      /expected a dataset name, one of fashion-mnist-embedded, .*found 'imagenet'/,
    );
  });
});
