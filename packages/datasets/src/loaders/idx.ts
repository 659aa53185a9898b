import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  type DatasetDescriptor,
  FASHION_MNIST_CLASS_NAMES,
  IDX_FILES,
  MNIST_CLASS_NAMES,
} from '../catalog.js';
import { fileError, redownloadFix } from '../errors.js';
import { maybeGunzip, md5Hex, readDataFile } from '../formats/files.js';
import { parseIdxImages, parseIdxLabels } from '../formats/idx.js';
import { channelStats } from '../stats.js';
import type { Dataset, ImageSplit } from '../types.js';

/** The file's name as present: gzipped preferred, else uncompressed (the .gz name when neither exists). */
function pickIdxFile(dir: string, base: string): string {
  if (existsSync(join(dir, `${base}.gz`))) return `${base}.gz`;
  if (existsSync(join(dir, base))) return base;
  return `${base}.gz`;
}

interface ReadSplit {
  split: ImageSplit;
  files: Record<string, string>;
}

async function readIdxSplit(
  dir: string,
  imagesBase: string,
  labelsBase: string,
  descriptor: DatasetDescriptor,
): Promise<ReadSplit> {
  const fix = redownloadFix(descriptor.name);
  const imagesName = pickIdxFile(dir, imagesBase);
  const labelsName = pickIdxFile(dir, labelsBase);
  const imagesPath = join(dir, imagesName);
  const labelsPath = join(dir, labelsName);
  const imagesRaw = await readDataFile(imagesPath, fix);
  const labelsRaw = await readDataFile(labelsPath, fix);
  const images = parseIdxImages(maybeGunzip(imagesRaw, imagesPath, fix), imagesPath, fix);
  const labels = parseIdxLabels(
    maybeGunzip(labelsRaw, labelsPath, fix),
    labelsPath,
    fix,
    descriptor.numClasses,
  );
  if (images.rows !== descriptor.height || images.cols !== descriptor.width) {
    throw fileError(
      imagesPath,
      `${descriptor.height}x${descriptor.width} images`,
      `${images.rows}x${images.cols}`,
      fix,
    );
  }
  if (labels.length !== images.count) {
    throw fileError(
      labelsPath,
      `${images.count} labels (one per image in ${imagesName})`,
      `${labels.length}`,
      fix,
    );
  }
  return {
    split: {
      images: images.images,
      labels,
      count: images.count,
      height: images.rows,
      width: images.cols,
      channels: 1,
    },
    files: { [imagesName]: md5Hex(imagesRaw), [labelsName]: md5Hex(labelsRaw) },
  };
}

/** Loads an IDX dataset (Fashion-MNIST, MNIST, the embedded subset) from a directory, gzipped or not. */
export async function loadIdxDataset(dir: string, descriptor: DatasetDescriptor): Promise<Dataset> {
  const train = await readIdxSplit(dir, IDX_FILES.trainImages, IDX_FILES.trainLabels, descriptor);
  const test = await readIdxSplit(dir, IDX_FILES.testImages, IDX_FILES.testLabels, descriptor);
  const checksums = { ...train.files, ...test.files };
  const classNames = [...(descriptor.name === 'mnist' ? MNIST_CLASS_NAMES : FASHION_MNIST_CLASS_NAMES)];
  return {
    name: descriptor.name,
    train: train.split,
    test: test.split,
    classNames,
    meta: {
      name: descriptor.name,
      dir,
      sourceFiles: Object.keys(checksums),
      checksums,
      counts: { train: train.split.count, test: test.split.count },
      ...channelStats(train.split),
    },
  };
}
