import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, writeCifar100 } from './fixtures/write.js';
import { dataIdentity } from './identity.js';
import { loadDataset } from './load.js';

let root: string;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ dir: root, cleanup } = await makeTempDir('identity'));
  await writeCifar100(join(root, 'c100'), 4, 2);
});
afterAll(() => cleanup());

describe('dataIdentity', () => {
  it('names the dataset, label kind, subset, validation split and noise spec in one stable line', async () => {
    const fine = await loadDataset('cifar100', { dir: join(root, 'c100') });
    const id = dataIdentity(fine, {
      subset: { kind: 'balanced', size: 10_000, seed: 0 },
      validation: { size: 5000, seed: 1 },
      noise: { mode: 'symmetric', fraction: 0.2, seed: 0 },
    });
    expect(id.id).toBe(
      'cifar100(fine)|subset=balanced:10000:seed=0|val=5000:seed=1|noise=symmetric:p=0.2:seed=0',
    );
    expect(id.checksums).toEqual(fine.meta.checksums);
    const coarse = await loadDataset('cifar100', { dir: join(root, 'c100'), labels: 'coarse' });
    expect(dataIdentity(coarse).id).toBe('cifar100(coarse)|noise=none');
    expect(dataIdentity(await loadDataset('default'), { subset: { kind: 'first', size: 100 } }).id).toBe(
      'fashion-mnist-embedded|subset=first:100|noise=none',
    );
  });
});
