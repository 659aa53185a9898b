import { createHash } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { availableParallelism, homedir } from 'node:os';
import { join } from 'node:path';
import sharp, { type OutputInfo } from 'sharp';
import type { DatasetDescriptor } from '../catalog.js';
import { errnoCode, fileError, redownloadFix } from '../errors.js';
import { md5Hex, readDataFile } from '../formats/files.js';
import { channelStats } from '../stats.js';
import type { Dataset, ImageSplit } from '../types.js';

export interface TinyImageNetProgress {
  phase: 'decode' | 'cache-read' | 'cache-write' | 'cache-skipped';
  done: number;
  total: number;
  /** For 'cache-skipped': why the cache could not be written. */
  reason?: string;
}

export interface TinyImageNetOptions {
  onProgress?: (progress: TinyImageNetProgress) => void;
  /** JPEGs decoded at once (default: the number of CPUs, at least 4). */
  concurrency?: number;
  /** Read and write the decoded-pixel cache (default true). */
  cache?: boolean;
  /** Where the cache lives (default: fisherlab-cache-v1.bin next to the data, else in the home cache). */
  cacheFile?: string;
  homeDir?: string;
}

const SIDE = 64;
const IMAGE_BYTES = SIDE * SIDE * 3;
const CACHE_MAGIC = 'FLTINY01';
export const TINYIMAGENET_CACHE_NAME = 'fisherlab-cache-v1.bin';

interface Listing {
  wnids: string[];
  classNames: string[];
  trainFiles: string[];
  trainLabels: Int32Array;
  valFiles: string[];
  valLabels: Int32Array;
  /** md5 over the listing and the two text files: identifies the cache's contents. */
  key: string;
  checksums: Record<string, string>;
}

const naturalOrder = (a: string, b: string): number => a.localeCompare(b, 'en', { numeric: true });

async function listDir(path: string, fix: string): Promise<import('node:fs').Dirent[]> {
  try {
    return await readdir(path, { withFileTypes: true });
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') throw fileError(path, 'a directory', 'nothing there', fix);
    throw error;
  }
}

/** Reads wnids.txt, words.txt (optional), the train tree and val_annotations.txt, checking their agreement. */
export async function listTinyImageNet(dir: string, descriptor: DatasetDescriptor): Promise<Listing> {
  const fix = redownloadFix(descriptor.name);
  const wnidsPath = join(dir, 'wnids.txt');
  const wnidsText = (await readDataFile(wnidsPath, fix)).toString('utf8');
  const wnids = wnidsText
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  const classIndex = new Map<string, number>();
  wnids.forEach((id, i) => {
    if (classIndex.has(id)) throw fileError(wnidsPath, 'unique WordNet ids', `'${id}' twice`, fix);
    classIndex.set(id, i);
  });
  if (wnids.length === 0) throw fileError(wnidsPath, 'one WordNet id per line', 'an empty file', fix);

  // Human-readable names from words.txt (wnid \t words); the wnid itself when absent.
  const words = new Map<string, string>();
  try {
    for (const line of (await readFile(join(dir, 'words.txt'), 'utf8')).split(/\r?\n/)) {
      const [id, text] = line.split('\t');
      if (id && text && classIndex.has(id)) words.set(id, text.trim());
    }
  } catch (error) {
    if (errnoCode(error) !== 'ENOENT') throw error;
  }
  const classNames = wnids.map((id) => words.get(id) ?? id);

  const trainDir = join(dir, 'train');
  const classDirs = (await listDir(trainDir, fix)).filter((e) => e.isDirectory()).map((e) => e.name);
  for (const name of classDirs) {
    if (!classIndex.has(name)) {
      throw fileError(
        join(trainDir, name),
        `a class directory named in ${wnidsPath} (${wnids.length} ids)`,
        `'${name}', which wnids.txt does not list`,
        `remove the stray directory, or re-extract tiny-imagenet-200.zip so wnids.txt and train/ agree (${fix})`,
      );
    }
  }
  const trainFiles: string[] = [];
  const trainLabelList: number[] = [];
  for (const [i, wnid] of wnids.entries()) {
    const imagesDir = join(trainDir, wnid, 'images');
    const files = (await listDir(imagesDir, fix))
      .filter((e) => e.isFile() && /\.jpe?g$/i.test(e.name))
      .map((e) => e.name)
      .sort(naturalOrder);
    for (const file of files) {
      trainFiles.push(join('train', wnid, 'images', file));
      trainLabelList.push(i);
    }
  }

  const annotationsPath = join(dir, 'val', 'val_annotations.txt');
  const annotationsText = (await readDataFile(annotationsPath, fix)).toString('utf8');
  const valFiles: string[] = [];
  const valLabelList: number[] = [];
  annotationsText.split(/\r?\n/).forEach((line, lineNo) => {
    if (line.trim().length === 0) return;
    const [file, wnid] = line.split('\t');
    const label = wnid === undefined ? undefined : classIndex.get(wnid);
    if (!file || label === undefined) {
      throw fileError(
        `${annotationsPath} line ${lineNo + 1}`,
        'file<TAB>wnid<TAB>x0<TAB>y0<TAB>x1<TAB>y1 with a wnid listed in wnids.txt',
        `'${line}'`,
        fix,
      );
    }
    valFiles.push(join('val', 'images', file));
    valLabelList.push(label);
  });

  const checksums = {
    'wnids.txt': md5Hex(Buffer.from(wnidsText)),
    'val/val_annotations.txt': md5Hex(Buffer.from(annotationsText)),
  };
  const key = createHash('md5')
    .update(`${IMAGE_BYTES}\n${wnidsText}\n${annotationsText}\n${trainFiles.join('\n')}`)
    .digest('hex');
  return {
    wnids,
    classNames,
    trainFiles,
    trainLabels: Int32Array.from(trainLabelList),
    valFiles,
    valLabels: Int32Array.from(valLabelList),
    key,
    checksums,
  };
}

/** Decodes one JPEG to 64x64x3 RGB (grayscale and CMYK converted to sRGB) into `out` at `offset`. */
async function decodeInto(path: string, out: Uint8Array, offset: number, fix: string): Promise<void> {
  let decoded: { data: Buffer; info: OutputInfo };
  try {
    decoded = await sharp(path)
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
  } catch (error) {
    const message = (error as Error).message.split('\n')[0];
    if (errnoCode(error) === 'ENOENT' || /missing|not exist/i.test(message ?? '')) {
      throw fileError(path, 'the file to exist', 'no such file', fix);
    }
    throw fileError(path, 'a decodable JPEG', `an undecodable file (${message})`, fix);
  }
  const { width, height, channels } = decoded.info;
  if (width !== SIDE || height !== SIDE) {
    throw fileError(path, `a ${SIDE}x${SIDE} image`, `${width}x${height}`, fix);
  }
  if (channels === 3) {
    out.set(decoded.data, offset);
  } else if (channels === 1) {
    for (let p = 0; p < SIDE * SIDE; p++) out.fill(decoded.data[p]!, offset + 3 * p, offset + 3 * p + 3);
  } else {
    throw fileError(path, 'an RGB or grayscale JPEG', `${channels} channels after conversion`, fix);
  }
}

async function decodeAll(
  dir: string,
  files: string[],
  out: Uint8Array,
  concurrency: number,
  fix: string,
  onDone: () => void,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < files.length) {
      const i = next++;
      await decodeInto(join(dir, files[i]!), out, i * IMAGE_BYTES, fix);
      onDone();
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, files.length) }, worker));
}

interface CacheHeader {
  key: string;
  trainCount: number;
  testCount: number;
  pixelsMd5: string;
}

function align8(n: number): number {
  return Math.ceil(n / 8) * 8;
}

/**
 * Reads the cache when its header matches `key` and its size matches the header; null otherwise.
 * The header is checked before the (1.35 GB for the full dataset) pixels are read.
 */
async function readCache(
  path: string,
  key: string,
): Promise<{ header: CacheHeader; bytes: Uint8Array } | null> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    // Absent, or something that is not a readable file under that name: no usable cache.
    if (['ENOENT', 'EISDIR', 'ENOTDIR', 'EACCES'].includes(errnoCode(error) ?? '')) return null;
    throw error;
  }
  try {
    const stats = await handle.stat();
    const size = stats.size;
    if (!stats.isFile() || size < 12) return null;
    const prefix = Buffer.alloc(12);
    await handle.read(prefix, 0, 12, 0);
    if (prefix.toString('latin1', 0, 8) !== CACHE_MAGIC) return null;
    const headerLength = prefix.readUInt32LE(8);
    if (12 + headerLength > size) return null;
    const headerBytes = Buffer.alloc(headerLength);
    await handle.read(headerBytes, 0, headerLength, 12);
    let header: CacheHeader;
    try {
      header = JSON.parse(headerBytes.toString('utf8')) as CacheHeader;
    } catch {
      return null;
    }
    const dataStart = align8(12 + headerLength);
    const dataLength = (header.trainCount + header.testCount) * (IMAGE_BYTES + 4);
    // A stale (other key) or damaged (other length) cache is ignored and rebuilt from the JPEGs.
    if (header.key !== key || size !== dataStart + dataLength) return null;
    const bytes = new Uint8Array(dataLength);
    let at = 0;
    while (at < dataLength) {
      // Reads in 256 MiB pieces: one read() call is limited to 2 GiB.
      const { bytesRead } = await handle.read(bytes, at, Math.min(dataLength - at, 2 ** 28), dataStart + at);
      if (bytesRead === 0) return null;
      at += bytesRead;
    }
    return { header, bytes };
  } finally {
    await handle.close();
  }
}

async function writeCache(path: string, header: CacheHeader, parts: Uint8Array[]): Promise<void> {
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  const prefix = Buffer.alloc(align8(12 + headerBytes.length));
  prefix.write(CACHE_MAGIC, 0, 'latin1');
  prefix.writeUInt32LE(headerBytes.length, 8);
  headerBytes.copy(prefix, 12);
  // Written under a temporary name and renamed, so a crash never leaves a half cache under the real name.
  const temp = `${path}.tmp-${process.pid}-${Date.now()}`;
  const handle = await open(temp, 'w');
  try {
    let position = 0;
    for (const part of [prefix, ...parts]) {
      // In pieces, looping on short writes: one write() call moves at most ~2 GiB on Linux.
      for (let at = 0; at < part.length; ) {
        const { bytesWritten } = await handle.write(part, at, Math.min(part.length - at, 2 ** 28), position);
        at += bytesWritten;
        position += bytesWritten;
      }
    }
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temp, { force: true });
    throw error;
  }
  await handle.close();
  await rename(temp, path);
}

const littleEndianInt32 = (labels: Int32Array): Uint8Array => {
  const out = Buffer.alloc(labels.length * 4);
  for (let i = 0; i < labels.length; i++) out.writeInt32LE(labels[i]!, 4 * i);
  return out;
};

function cacheCandidates(dir: string, key: string, options: TinyImageNetOptions): string[] {
  if (options.cacheFile) return [options.cacheFile];
  return [
    join(dir, TINYIMAGENET_CACHE_NAME),
    // Named by the data directory too, so two copies never share a cache file.
    join(
      options.homeDir ?? homedir(),
      '.cache',
      'fisherlab',
      'datasets',
      'tinyimagenet-cache',
      `${createHash('md5').update(`${dir}\n${key}`).digest('hex')}.bin`,
    ),
  ];
}

/**
 * TinyImageNet-200 from the extracted zip: train/<wnid>/images/*.JPEG (class index = line order of
 * wnids.txt) and val/images with labels from val/val_annotations.txt, returned as train and test.
 * The first load decodes every JPEG in parallel and writes a binary cache; later loads read it.
 */
export async function loadTinyImageNet(
  dir: string,
  descriptor: DatasetDescriptor,
  options: TinyImageNetOptions = {},
): Promise<Dataset> {
  const fix = redownloadFix(descriptor.name);
  const listing = await listTinyImageNet(dir, descriptor);
  const trainCount = listing.trainFiles.length;
  const testCount = listing.valFiles.length;
  const total = trainCount + testCount;
  const progress = options.onProgress ?? (() => {});
  const useCache = options.cache ?? true;
  const candidates = cacheCandidates(dir, listing.key, options);

  let trainImages: Uint8Array | undefined;
  let testImages: Uint8Array | undefined;
  let pixelsMd5 = '';
  let cacheUsed: string | undefined;
  if (useCache) {
    for (const path of candidates) {
      const cached = await readCache(path, listing.key);
      if (!cached) continue;
      progress({ phase: 'cache-read', done: total, total });
      const { buffer, byteOffset } = cached.bytes;
      trainImages = new Uint8Array(buffer, byteOffset, trainCount * IMAGE_BYTES);
      testImages = new Uint8Array(buffer, byteOffset + trainCount * IMAGE_BYTES, testCount * IMAGE_BYTES);
      pixelsMd5 = cached.header.pixelsMd5;
      cacheUsed = path;
      break;
    }
  }
  if (!trainImages || !testImages) {
    const pixels = new Uint8Array(total * IMAGE_BYTES);
    const concurrency = options.concurrency ?? Math.max(4, availableParallelism());
    let done = 0;
    const every = Math.max(1, Math.floor(total / 200));
    const onDone = (): void => {
      done++;
      if (done % every === 0 || done === total) progress({ phase: 'decode', done, total });
    };
    await decodeAll(dir, [...listing.trainFiles, ...listing.valFiles], pixels, concurrency, fix, onDone);
    trainImages = pixels.subarray(0, trainCount * IMAGE_BYTES);
    testImages = pixels.subarray(trainCount * IMAGE_BYTES);
    pixelsMd5 = md5Hex(pixels);
    if (useCache) {
      const header: CacheHeader = { key: listing.key, trainCount, testCount, pixelsMd5 };
      const parts = [pixels, littleEndianInt32(listing.trainLabels), littleEndianInt32(listing.valLabels)];
      const reasons: string[] = [];
      for (const path of candidates) {
        try {
          progress({ phase: 'cache-write', done: 0, total });
          await mkdir(join(path, '..'), { recursive: true });
          await writeCache(path, header, parts);
          cacheUsed = path;
          break;
        } catch (error) {
          reasons.push(`${path}: ${(error as Error).message}`);
        }
      }
      if (!cacheUsed) progress({ phase: 'cache-skipped', done: total, total, reason: reasons.join('; ') });
    }
  }

  const train: ImageSplit = {
    images: trainImages,
    labels: listing.trainLabels,
    count: trainCount,
    height: SIDE,
    width: SIDE,
    channels: 3,
  };
  const test: ImageSplit = {
    images: testImages,
    labels: listing.valLabels,
    count: testCount,
    height: SIDE,
    width: SIDE,
    channels: 3,
  };
  const checksums: Record<string, string> = { ...listing.checksums, 'decoded pixels (train+val)': pixelsMd5 };
  const notes = [
    'test = the labeled val split (val/val_annotations.txt); the official test split has no labels',
  ];
  if (cacheUsed) notes.push(`decoded-pixel cache: ${cacheUsed}`);
  return {
    name: descriptor.name,
    train,
    test,
    classNames: listing.classNames,
    meta: {
      name: descriptor.name,
      dir,
      sourceFiles: [
        'wnids.txt',
        'val/val_annotations.txt',
        `train/*/images/*.JPEG (${trainCount})`,
        `val/images/*.JPEG (${testCount})`,
      ],
      checksums,
      counts: { train: trainCount, test: testCount },
      ...channelStats(train),
      notes,
    },
  };
}
