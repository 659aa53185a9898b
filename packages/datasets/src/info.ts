import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import {
  CATALOG,
  DATASET_NAMES,
  type DatasetName,
  type DownloadResource,
  resolveDatasetName,
} from './catalog.js';
import { type InstallMarker, readInstallMarker } from './download.js';
import { EMBEDDED_DATA_DIR } from './embedded.js';
import { md5Hex } from './formats/files.js';
import { findDataset, type LoadOptions, loadDataset } from './load.js';
import { listTinyImageNet, TINYIMAGENET_CACHE_NAME } from './loaders/tinyimagenet.js';
import type { DataCandidate, DataSource, LocateOptions } from './locate.js';

export interface DatasetInfo {
  name: DatasetName;
  title: string;
  homepage: string;
  license: string;
  shape: { height: number; width: number; channels: number };
  numClasses: number;
  /** Published counts. */
  counts: { train: number; test: number };
  resources: DownloadResource[];
  /** Where it was found (null: not on this machine) and every place searched. */
  dir: string | null;
  source: DataSource | null;
  searched: DataCandidate[];
  /** Present when FisherLab's downloader installed it. */
  installed: InstallMarker | null;
  /** TinyImageNet: the decoded-pixel cache next to the data, when present. */
  cacheFile?: string;
}

/** What is known about a dataset and where (if anywhere) it is on this machine. Reads no image data. */
export async function datasetInfo(name: string, options: LocateOptions = {}): Promise<DatasetInfo> {
  const canonical = resolveDatasetName(name);
  const d = CATALOG[canonical];
  const found = findDataset(canonical, options);
  const info: DatasetInfo = {
    name: canonical,
    title: d.title,
    homepage: d.homepage,
    license: d.license,
    shape: { height: d.height, width: d.width, channels: d.channels },
    numClasses: d.numClasses,
    counts: d.counts,
    resources: d.resources,
    dir: found.dir,
    source: found.source,
    searched: found.searched,
    installed: null,
  };
  if (found.dir) {
    // The marker sits in <root>/<name>, one level above an archive's own folder.
    info.installed = (await readInstallMarker(found.dir)) ?? (await readInstallMarker(join(found.dir, '..')));
    const cache = join(found.dir, TINYIMAGENET_CACHE_NAME);
    if (canonical === 'tinyimagenet' && existsSync(cache)) info.cacheFile = cache;
  }
  return info;
}

/** Where each dataset is on this machine (for `fisherlab doctor`). */
export function locateAllDatasets(
  options: Omit<LocateOptions, 'dir'> = {},
): { name: string; found: string | null; note?: string }[] {
  return DATASET_NAMES.map((name) => {
    const found = findDataset(name, options);
    return found.dir
      ? { name, found: found.dir, note: found.source ?? undefined }
      : { name, found: null, note: `fisherlab data download ${name}` };
  });
}

export interface VerifyCheck {
  check: string;
  ok: boolean;
  detail: string;
}

export interface VerifyReport {
  name: DatasetName;
  dir: string | null;
  ok: boolean;
  checks: VerifyCheck[];
}

export interface VerifyOptions extends LoadOptions {
  /** TinyImageNet: decode every JPEG too (slow the first time; uses the cache). Default false. */
  decode?: boolean;
}

/**
 * md5 of the decompressed IDX content of Debian's dataset-fashion-mnist (2020), which recompresses
 * the official files: its .gz checksums differ from the published ones, the content does not.
 */
const FASHION_MNIST_CONTENT_MD5: Record<string, string> = {
  'train-images-idx3-ubyte.gz': 'f4a8712d7a061bf5bd6d2ca38dc4d50a',
  'train-labels-idx1-ubyte.gz': '9018921c3c673c538a1fc5bad174d6f9',
  't10k-images-idx3-ubyte.gz': '8181f5470baa50b63fa0f6fddb340f0a',
  't10k-labels-idx1-ubyte.gz': '15d484375f8d13e6eb1aabb0c3f46965',
};

async function idxChecksumChecks(
  name: DatasetName,
  dir: string,
  checksums: Record<string, string>,
): Promise<VerifyCheck[]> {
  const checks: VerifyCheck[] = [];
  const published = new Map(CATALOG[name].resources.map((r) => [r.filename, r.md5]));
  let manifestMd5: Record<string, string> = {};
  if (name === 'fashion-mnist-embedded') {
    manifestMd5 = JSON.parse(await readFile(join(EMBEDDED_DATA_DIR, 'manifest.json'), 'utf8')).contentMd5;
  }
  for (const [file, md5] of Object.entries(checksums)) {
    const content = (): string => {
      const bytes = readFileSync(join(dir, file));
      return md5Hex(file.endsWith('.gz') ? gunzipSync(bytes) : bytes);
    };
    if (published.get(file) === md5) {
      checks.push({ check: `md5 ${file}`, ok: true, detail: `${md5} = published` });
    } else if (name === 'fashion-mnist-embedded') {
      const c = content();
      checks.push({
        check: `content md5 ${file}`,
        ok: c === manifestMd5[file],
        detail: `${c} (manifest: ${manifestMd5[file]})`,
      });
    } else if (name === 'fashion-mnist' && FASHION_MNIST_CONTENT_MD5[`${file.replace(/\.gz$/, '')}.gz`]) {
      const c = content();
      const want = FASHION_MNIST_CONTENT_MD5[`${file.replace(/\.gz$/, '')}.gz`];
      checks.push({
        check: `content md5 ${file}`,
        ok: c === want,
        detail:
          c === want
            ? `${c}: recompressed copy (e.g. Debian's), content identical`
            : `${c}, expected ${want}`,
      });
    } else {
      checks.push({
        check: `md5 ${file}`,
        ok: true,
        detail: `${md5}: differs from the published archive checksum (recompressed or uncompressed copy); structure checked below`,
      });
    }
  }
  return checks;
}

/**
 * Checks a dataset on disk: it is found, every file parses (headers, record sizes, labels in range),
 * counts and shapes match the published ones, every class is present, and checksums agree with the
 * published ones (or, for recompressed copies, the known content). Never throws for bad data: each
 * problem is a failed check with its message.
 */
export async function verifyDataset(name: string, options: VerifyOptions = {}): Promise<VerifyReport> {
  const canonical = resolveDatasetName(name);
  const d = CATALOG[canonical];
  const found = findDataset(canonical, options);
  const checks: VerifyCheck[] = [];
  const report = (): VerifyReport => ({
    name: canonical,
    dir: found.dir,
    ok: checks.every((c) => c.ok),
    checks,
  });
  if (found.dir === null) {
    checks.push({
      check: 'found',
      ok: false,
      detail: `not in ${found.searched.map((c) => c.path).join(', ')}`,
    });
    return report();
  }
  checks.push({ check: 'found', ok: true, detail: `${found.dir} (${found.source})` });
  const marker = (await readInstallMarker(found.dir)) ?? (await readInstallMarker(join(found.dir, '..')));
  if (marker) {
    checks.push({
      check: 'download',
      ok: true,
      detail: `installed ${marker.installedAt}; md5 checked at download: ${marker.files.map((f) => `${f.filename} ${f.md5}`).join(', ')}`,
    });
  }

  try {
    if (canonical === 'tinyimagenet' && !options.decode) {
      const listing = await listTinyImageNet(found.dir, d);
      checks.push(countCheck('train', listing.trainLabels.length, d.counts.train));
      checks.push(countCheck('test (val)', listing.valLabels.length, d.counts.test));
      checks.push(classCheck('train', listing.trainLabels, d.numClasses));
      checks.push(classCheck('test (val)', listing.valLabels, d.numClasses));
      checks.push({
        check: 'wnids',
        ok: listing.wnids.length === d.numClasses,
        detail: `${listing.wnids.length} ids`,
      });
      return report();
    }
    const dataset = await loadDataset(canonical, options);
    const numClasses = canonical === 'cifar100' && options.labels === 'coarse' ? 20 : d.numClasses;
    checks.push(countCheck('train', dataset.train.count, d.counts.train));
    checks.push(countCheck('test', dataset.test.count, d.counts.test));
    const shape = `${dataset.train.height}x${dataset.train.width}x${dataset.train.channels}`;
    const want = `${d.height}x${d.width}x${d.channels}`;
    checks.push({
      check: 'shape',
      ok: shape === want,
      detail: shape === want ? shape : `${shape}, expected ${want}`,
    });
    checks.push(classCheck('train', dataset.train.labels, numClasses));
    checks.push(classCheck('test', dataset.test.labels, numClasses));
    if (canonical === 'fashion-mnist' || canonical === 'mnist' || canonical === 'fashion-mnist-embedded') {
      checks.push(...(await idxChecksumChecks(canonical, found.dir, dataset.meta.checksums)));
    }
  } catch (error) {
    checks.push({ check: 'read', ok: false, detail: (error as Error).message });
  }
  return report();
}

function countCheck(split: string, found: number, expected: number): VerifyCheck {
  return {
    check: `${split} count`,
    ok: found === expected,
    detail:
      found === expected
        ? `${found}`
        : `${found}, expected ${expected} (truncated or partial copy: re-download)`,
  };
}

function classCheck(split: string, labels: Int32Array, numClasses: number): VerifyCheck {
  const counts = new Array<number>(numClasses).fill(0);
  for (const label of labels) counts[label] = (counts[label] ?? 0) + 1;
  const missing = counts.flatMap((n, c) => (n === 0 ? [c] : []));
  return {
    check: `${split} classes`,
    ok: missing.length === 0,
    detail:
      missing.length === 0
        ? `all ${numClasses} present, ${Math.min(...counts)}..${Math.max(...counts)} per class`
        : `classes ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ', ...' : ''} have no examples`,
  };
}
