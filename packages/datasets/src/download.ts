import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, normalize, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { InputError } from '@fisherlab/core';
import * as tar from 'tar';
import yauzl from 'yauzl';
import { CATALOG, type DatasetName, type DownloadResource, resolveDatasetName } from './catalog.js';
import { errnoCode, fileError } from './errors.js';
import { defaultDataRoot, type LocateOptions } from './locate.js';

export interface DownloadProgress {
  phase: 'download' | 'verify' | 'extract' | 'install';
  /** The resource's file name. */
  file: string;
  /** Bytes on disk so far (including a resumed partial file). */
  received: number;
  /** Full size when the server said it, else null. */
  total: number | null;
}

export interface DownloadOptions extends Pick<LocateOptions, 'env' | 'homeDir'> {
  /** Folder that receives `<name>/` (default: $FISHERLAB_DATA, else ~/.cache/fisherlab/datasets). */
  root?: string;
  /** Replaces each URL's directory (a mirror, or a local test server): `${baseUrl}/${filename}`. */
  baseUrl?: string;
  /** The fetch to use (default: the global fetch). */
  fetchImpl?: typeof fetch;
  onProgress?: (progress: DownloadProgress) => void;
  /** Download again even when a completed download is installed. */
  force?: boolean;
  /** Replaces the catalog's resources (tests; private mirrors with their own checksums). */
  resources?: DownloadResource[];
  /** Give up on a transfer that sends nothing for this long (default 60,000 ms); the partial file is kept. */
  stallTimeoutMs?: number;
}

export interface DownloadedFile {
  filename: string;
  url: string;
  md5: string;
  bytes: number;
  /** Bytes that were already on disk from an interrupted download. */
  resumedFrom: number;
}

export interface DownloadResult {
  name: DatasetName;
  /** The installed dataset folder (root/name). */
  dir: string;
  files: DownloadedFile[];
  /** True when a completed download was already installed and nothing was fetched. */
  alreadyPresent: boolean;
}

/** Written last into an installed dataset folder: what was downloaded and checked. */
export const INSTALL_MARKER = '.fisherlab-download.json';

export interface InstallMarker {
  name: string;
  installedAt: string;
  files: DownloadedFile[];
}

const md5OfFile = async (path: string): Promise<string> => {
  const hash = createHash('md5');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
};

const fileSize = async (path: string): Promise<number> => {
  try {
    return (await stat(path)).size;
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return 0;
    throw error;
  }
};

function resourceUrl(resource: DownloadResource, baseUrl: string | undefined): string {
  if (!baseUrl) return resource.url;
  return `${baseUrl.replace(/\/+$/, '')}/${resource.filename}`;
}

/**
 * Fetches one resource into `partPath`, resuming from the bytes already there with an HTTP Range
 * request, then checks its md5. A truncated transfer keeps the partial file (the next call resumes);
 * a checksum mismatch deletes it. Partial files live under <root>/.partial/, where no loader looks.
 */
async function fetchResource(
  resource: DownloadResource,
  url: string,
  partPath: string,
  options: DownloadOptions,
): Promise<DownloadedFile> {
  const fetchImpl = options.fetchImpl ?? fetch;
  const progress = options.onProgress ?? (() => {});
  const resumeFix = `run the same download again (a partial download resumes from ${partPath})`;
  let resumedFrom = await fileSize(partPath);
  // Aborts a transfer that stalls: armed before the request, re-armed on every chunk received.
  const abort = new AbortController();
  const stallMs = options.stallTimeoutMs ?? 60_000;
  let stallTimer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    clearTimeout(stallTimer);
    stallTimer = setTimeout(() => abort.abort(new Error(`no data for ${stallMs} ms`)), stallMs);
    stallTimer.unref(); // never what keeps the process alive
  };
  arm();
  let response: Response;
  try {
    const headers: Record<string, string> = resumedFrom > 0 ? { Range: `bytes=${resumedFrom}-` } : {};
    response = await fetchImpl(url, { headers, signal: abort.signal });
  } catch (error) {
    clearTimeout(stallTimer);
    throw fileError(
      url,
      'an HTTP response',
      `a network error (${describeError(error)})`,
      `check the network or use a mirror (options.baseUrl); ${resumeFix}`,
    );
  }
  let total: number | null = null;
  let append = false;
  if (response.status === 206) {
    const range = /\/(\d+)\s*$/.exec(response.headers.get('content-range') ?? '');
    total = range ? Number(range[1]) : null;
    append = true;
  } else if (response.status === 416 && resumedFrom > 0) {
    // Nothing past the end: the partial file is already whole. The md5 below decides.
    total = resumedFrom;
    await response.body?.cancel();
  } else if (response.ok) {
    const length = response.headers.get('content-length');
    total = length === null ? null : Number(length);
    resumedFrom = 0;
  } else {
    clearTimeout(stallTimer);
    await response.body?.cancel();
    throw fileError(
      url,
      'HTTP 200 (or 206 for a resumed download)',
      `HTTP ${response.status} ${response.statusText}`,
      `check the URL or use a mirror (options.baseUrl); ${resumeFix}`,
    );
  }

  let received = resumedFrom;
  if (response.status !== 416) {
    await mkdir(dirname(partPath), { recursive: true });
    const handle = await open(partPath, append ? 'a' : 'w');
    try {
      if (response.body) {
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
          arm();
          await handle.write(chunk);
          received += chunk.length;
          progress({ phase: 'download', file: resource.filename, received, total });
        }
      }
    } catch (error) {
      throw fileError(
        url,
        `${total ?? 'all the'} bytes`,
        `the connection ended after ${received} bytes (${describeError(error)})`,
        resumeFix,
      );
    } finally {
      clearTimeout(stallTimer);
      await handle.close();
    }
  }
  clearTimeout(stallTimer);
  if (total !== null && received !== total) {
    throw fileError(url, `${total} bytes`, `${received} bytes (truncated transfer)`, resumeFix);
  }
  progress({ phase: 'verify', file: resource.filename, received, total });
  const md5 = await md5OfFile(partPath);
  if (md5 !== resource.md5) {
    await rm(partPath, { force: true });
    throw fileError(
      url,
      `md5 ${resource.md5} (the published checksum)`,
      `md5 ${md5} over ${received} bytes`,
      'the file was corrupt or not the published one and has been deleted; download again, or from another mirror (options.baseUrl)',
    );
  }
  return { filename: resource.filename, url, md5, bytes: received, resumedFrom };
}

/** undici's errors say "fetch failed" / "terminated" and keep the reason (DNS, reset, abort) in `cause`. */
function describeError(error: unknown): string {
  const message = (error as Error)?.message ?? String(error);
  const cause = (error as { cause?: unknown })?.cause;
  return cause instanceof Error ? `${message}: ${cause.message}` : message;
}

/** Resolves an archive entry's path inside `dir`, refusing absolute paths and '..' escapes. */
function safeJoin(dir: string, entryName: string, archive: string): string {
  const cleaned = normalize(entryName);
  if (cleaned.startsWith('..') || cleaned.startsWith(sep) || /^[a-zA-Z]:/.test(cleaned)) {
    throw fileError(
      archive,
      'entries inside the archive folder',
      `an entry '${entryName}' outside it`,
      'do not use this archive; download the official one',
    );
  }
  return join(dir, cleaned);
}

async function extractZip(archive: string, dir: string): Promise<void> {
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzl.open(
      archive,
      { lazyEntries: true, strictFileNames: false, validateEntrySizes: true },
      (error, file) => (error ? reject(error) : resolve(file)),
    ),
  );
  await new Promise<void>((resolve, reject) => {
    const fail = (error: unknown): void => {
      zip.close();
      reject(error);
    };
    zip.on('error', fail);
    zip.on('end', () => resolve());
    zip.on('entry', (entry: yauzl.Entry) => {
      const target = safeJoin(dir, entry.fileName, archive);
      if (entry.fileName.endsWith('/')) {
        mkdir(target, { recursive: true }).then(() => zip.readEntry(), fail);
        return;
      }
      zip.openReadStream(entry, (error, stream) => {
        if (error) return fail(error);
        mkdir(dirname(target), { recursive: true })
          .then(() => pipeline(stream, createWriteStream(target)))
          .then(() => zip.readEntry(), fail);
      });
    });
    zip.readEntry();
  });
}

async function install(resource: DownloadResource, partPath: string, staging: string): Promise<void> {
  try {
    if (resource.kind === 'tar.gz') {
      await tar.x({ file: partPath, cwd: staging, strict: true });
    } else if (resource.kind === 'zip') {
      await extractZip(partPath, staging);
    } else {
      await rename(partPath, join(staging, resource.filename));
    }
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw fileError(
      resource.filename,
      `a readable ${resource.kind} archive`,
      `an extraction error (${(error as Error).message})`,
      'the archive was deleted; download it again',
    );
  }
}

/** Reads the install marker of an installed dataset folder, or null. */
export async function readInstallMarker(dir: string): Promise<InstallMarker | null> {
  try {
    return JSON.parse(await readFile(join(dir, INSTALL_MARKER), 'utf8')) as InstallMarker;
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return null;
    throw error;
  }
}

/**
 * Downloads a dataset's official archives into <root>/<name>/: resumes partial downloads, checks
 * the published md5, extracts tar.gz (node-tar) and zip (yauzl) archives, and installs atomically:
 * everything is unpacked into a staging folder that is renamed to <root>/<name> only at the end,
 * so a failed or corrupt download never leaves files where a loader looks.
 */
export async function downloadDataset(name: string, options: DownloadOptions = {}): Promise<DownloadResult> {
  const canonical = resolveDatasetName(name);
  const resources = options.resources ?? CATALOG[canonical].resources;
  if (resources.length === 0) {
    throw new Error(`dataset '${canonical}' ships inside @fisherlab/datasets; there is nothing to download.`);
  }
  const root = options.root ?? defaultDataRoot(options);
  const target = join(root, canonical);
  const marker = await readInstallMarker(target);
  if (marker && !options.force)
    return { name: canonical, dir: target, files: marker.files, alreadyPresent: true };
  if (!marker && !options.force && (await stat(target).catch(() => null)) !== null) {
    // Files FisherLab did not install (copied there by hand?): never replaced without being asked.
    throw fileError(
      target,
      'no folder, or one installed by downloadDataset()',
      `a folder without ${INSTALL_MARKER}`,
      'use it as it is (verifyDataset() checks it), move it away, or download with options.force to replace it',
    );
  }

  const partPaths = resources.map((r) => join(root, '.partial', `${canonical}--${r.filename}.part`));
  const files: DownloadedFile[] = [];
  for (const [i, resource] of resources.entries()) {
    files.push(await fetchResource(resource, resourceUrl(resource, options.baseUrl), partPaths[i]!, options));
  }

  const staging = join(root, `.staging-${canonical}-${process.pid}-${Date.now()}`);
  await mkdir(staging, { recursive: true });
  try {
    for (const [i, resource] of resources.entries()) {
      options.onProgress?.({
        phase: 'extract',
        file: resource.filename,
        received: files[i]!.bytes,
        total: files[i]!.bytes,
      });
      await install(resource, partPaths[i]!, staging);
    }
    const record: InstallMarker = { name: canonical, installedAt: new Date().toISOString(), files };
    await writeFile(join(staging, INSTALL_MARKER), `${JSON.stringify(record, null, 2)}\n`);
    options.onProgress?.({ phase: 'install', file: target, received: 0, total: null });
    const previous = `${target}.old-${process.pid}-${Date.now()}`;
    const hadPrevious = (await stat(target).catch(() => null)) !== null;
    if (hadPrevious) await rename(target, previous);
    await rename(staging, target);
    if (hadPrevious) await rm(previous, { recursive: true, force: true });
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    for (const part of partPaths) await rm(part, { force: true });
    throw error;
  }
  for (const part of partPaths) await rm(part, { force: true });
  return { name: canonical, dir: target, files, alreadyPresent: false };
}
