/**
 * Makes the embedded Fashion-MNIST subset (data/fashion-mnist-embedded/) from the full dataset that
 * Debian's `dataset-fashion-mnist` installs, deterministically: 1,000 train and 200 test images per
 * class, chosen by classBalancedIndices with a fixed seed, kept in source order, written as gzipped IDX.
 *
 *   pnpm --filter @fisherlab/datasets make-embedded            # (re)write the files
 *   pnpm --filter @fisherlab/datasets make-embedded -- --check # verify the committed files
 *   ... -- --source <dir>                                      # another copy of Fashion-MNIST
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { CATALOG, IDX_FILES } from '../src/catalog.js';
import { EMBEDDED_DATA_DIR } from '../src/embedded.js';
import { md5Hex } from '../src/formats/files.js';
import { encodeIdxImages, encodeIdxLabels } from '../src/formats/idx.js';
import { loadIdxDataset } from '../src/loaders/idx.js';
import { classBalancedIndices, selectExamples } from '../src/subsets.js';
import type { ImageSplit } from '../src/types.js';

const SEED = 20210101;
const TRAIN_SIZE = 10_000;
const TEST_SIZE = 2_000;

const args = process.argv.slice(2);
const check = args.includes('--check');
const sourceAt = args.indexOf('--source');
const sourceDir = sourceAt >= 0 ? args[sourceAt + 1]! : '/usr/share/datasets/fashion-mnist';

const LICENSE = `The files in this folder are a subset of Fashion-MNIST
(https://github.com/zalandoresearch/fashion-mnist), made by ../../scripts/make-embedded.ts
from Debian's dataset-fashion-mnist package. See manifest.json for the exact source examples.

The MIT License (MIT)

Copyright (c) 2017 Zalando SE, https://tech.zalando.com

Permission is hereby granted, free of charge, to any person obtaining a copy of this software and
associated documentation files (the "Software"), to deal in the Software without restriction,
including without limitation the rights to use, copy, modify, merge, publish, distribute,
sublicense, and/or sell copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all copies or
substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT
NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND
NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES
OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN
CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.
`;

function idxFiles(split: ImageSplit, imagesName: string, labelsName: string): Record<string, Uint8Array> {
  return {
    [`${imagesName}.gz`]: encodeIdxImages(split.images, split.count, split.height, split.width),
    [`${labelsName}.gz`]: encodeIdxLabels(split.labels),
  };
}

const full = await loadIdxDataset(sourceDir, CATALOG['fashion-mnist']);
const trainIndices = classBalancedIndices(full.train.labels, 10, TRAIN_SIZE, SEED);
const testIndices = classBalancedIndices(full.test.labels, 10, TEST_SIZE, SEED + 1);
const files = {
  ...idxFiles(selectExamples(full.train, trainIndices), IDX_FILES.trainImages, IDX_FILES.trainLabels),
  ...idxFiles(selectExamples(full.test, testIndices), IDX_FILES.testImages, IDX_FILES.testLabels),
};

if (check) {
  let bad = 0;
  for (const [name, content] of Object.entries(files)) {
    const committed = gunzipSync(await readFile(join(EMBEDDED_DATA_DIR, name)));
    const same = md5Hex(committed) === md5Hex(content);
    console.log(`${same ? 'ok  ' : 'DIFF'} ${name}`);
    if (!same) bad++;
  }
  process.exit(bad === 0 ? 0 : 1);
}

await mkdir(EMBEDDED_DATA_DIR, { recursive: true });
const contentMd5: Record<string, string> = {};
for (const [name, content] of Object.entries(files)) {
  await writeFile(join(EMBEDDED_DATA_DIR, name), gzipSync(content, { level: 9 }));
  contentMd5[name] = md5Hex(content);
}
const manifest = {
  description: 'Class-balanced subset of Fashion-MNIST: 1,000 train and 200 test images per class',
  generator: 'scripts/make-embedded.ts',
  source: { dir: sourceDir, package: 'Debian dataset-fashion-mnist', files: full.meta.checksums },
  seeds: { train: SEED, test: SEED + 1 },
  counts: { train: TRAIN_SIZE, test: TEST_SIZE },
  /** md5 of each file's decompressed IDX content (gzip bytes can differ between zlib versions). */
  contentMd5,
  /** Indices into the source train / t10k files, ascending. */
  trainIndices: Array.from(trainIndices),
  testIndices: Array.from(testIndices),
};
await writeFile(join(EMBEDDED_DATA_DIR, 'manifest.json'), `${JSON.stringify(manifest)}\n`);
await writeFile(join(EMBEDDED_DATA_DIR, 'LICENSE'), LICENSE);
console.log(`wrote ${Object.keys(files).length} files to ${EMBEDDED_DATA_DIR}`);
