import { join } from 'node:path';
import type { DatasetDescriptor } from '../catalog.js';
import { fileError, redownloadFix } from '../errors.js';
import {
  CIFAR_IMAGE_BYTES,
  CIFAR_SIDE,
  type CifarRecords,
  parseCifarRecords,
  parseNamesFile,
} from '../formats/cifar.js';
import { md5Hex, readDataFile } from '../formats/files.js';
import { channelStats } from '../stats.js';
import type { Dataset, ImageSplit } from '../types.js';

export type Cifar100LabelKind = 'fine' | 'coarse';

function concatRecords(parts: CifarRecords[]): ImageSplit {
  const count = parts.reduce((n, p) => n + p.count, 0);
  const images = new Uint8Array(count * CIFAR_IMAGE_BYTES);
  const labels = new Int32Array(count);
  let at = 0;
  for (const part of parts) {
    images.set(part.images, at * CIFAR_IMAGE_BYTES);
    labels.set(part.labels, at);
    at += part.count;
  }
  return { images, labels, count, height: CIFAR_SIDE, width: CIFAR_SIDE, channels: 3 };
}

async function readNames(dir: string, file: string, expected: number, fix: string): Promise<string[]> {
  const path = join(dir, file);
  const names = parseNamesFile((await readDataFile(path, fix)).toString('utf8'));
  if (names.length !== expected) throw fileError(path, `${expected} class names`, `${names.length}`, fix);
  return names;
}

/**
 * CIFAR-10 binary: data_batch_1..5.bin (train, in that order) and test_batch.bin, records of
 * 1 label byte + 3072 pixel bytes; class names from batches.meta.txt.
 */
export async function loadCifar10(dir: string, descriptor: DatasetDescriptor): Promise<Dataset> {
  const fix = redownloadFix(descriptor.name);
  const checksums: Record<string, string> = {};
  const read = async (file: string): Promise<CifarRecords> => {
    const path = join(dir, file);
    const bytes = await readDataFile(path, fix);
    checksums[file] = md5Hex(bytes);
    return parseCifarRecords(bytes, { path, fix, labelClasses: [10], keep: 0 });
  };
  const trainParts: CifarRecords[] = [];
  for (let b = 1; b <= 5; b++) trainParts.push(await read(`data_batch_${b}.bin`));
  const train = concatRecords(trainParts);
  const test = concatRecords([await read('test_batch.bin')]);
  const classNames = await readNames(dir, 'batches.meta.txt', 10, fix);
  return assemble(descriptor.name, dir, train, test, classNames, checksums);
}

/**
 * CIFAR-100 binary: train.bin and test.bin, records of coarse label byte + fine label byte + 3072
 * pixel bytes; names from fine_label_names.txt / coarse_label_names.txt.
 */
export async function loadCifar100(
  dir: string,
  descriptor: DatasetDescriptor,
  labelKind: Cifar100LabelKind = 'fine',
): Promise<Dataset> {
  const fix = redownloadFix(descriptor.name);
  const numClasses = labelKind === 'fine' ? 100 : 20;
  const checksums: Record<string, string> = {};
  const read = async (file: string): Promise<CifarRecords> => {
    const path = join(dir, file);
    const bytes = await readDataFile(path, fix);
    checksums[file] = md5Hex(bytes);
    return parseCifarRecords(bytes, {
      path,
      fix,
      labelClasses: [20, 100],
      keep: labelKind === 'fine' ? 1 : 0,
    });
  };
  const train = concatRecords([await read('train.bin')]);
  const test = concatRecords([await read('test.bin')]);
  const namesFile = labelKind === 'fine' ? 'fine_label_names.txt' : 'coarse_label_names.txt';
  const classNames = await readNames(dir, namesFile, numClasses, fix);
  const dataset = assemble(descriptor.name, dir, train, test, classNames, checksums);
  dataset.meta.notes = [`labels: ${labelKind} (${numClasses} classes)`];
  return dataset;
}

function assemble(
  name: string,
  dir: string,
  train: ImageSplit,
  test: ImageSplit,
  classNames: string[],
  checksums: Record<string, string>,
): Dataset {
  return {
    name,
    train,
    test,
    classNames,
    meta: {
      name,
      dir,
      sourceFiles: Object.keys(checksums),
      checksums,
      counts: { train: train.count, test: test.count },
      ...channelStats(train),
    },
  };
}
