import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { InputError } from '@fisherlab/core';
import { writeJsonAtomic } from './write.js';

/**
 * A manifest lists the files of a directory that belong together (a checkpoint) with each one's
 * length and SHA-256. It is written last: a directory whose manifest is missing was not finished,
 * and a file that does not match its entry was damaged after it was written.
 */

export interface ManifestEntry {
  bytes: number;
  sha256: string;
}

export interface Manifest {
  format: 1;
  files: Record<string, ManifestEntry>;
}

export const MANIFEST_FILE = 'manifest.json';

/**
 * A file that is missing, of the wrong length, or not what was written: the InputError of a damaged
 * file (same fields and message), kept as its own name so a caller can tell damage from a bad value.
 */
export class IntegrityError extends InputError {
  override name = 'IntegrityError';
  declare readonly file: string;
  constructor(file: string, expected: string, found: string, fix: string) {
    super({ file, expected, found, fix });
  }
}

export const sha256Hex = (bytes: Uint8Array | string): string =>
  createHash('sha256').update(bytes).digest('hex');

/** Hashes the named files as they are on disk and writes `dir/manifest.json` (atomically). */
export function writeManifest(dir: string, names: readonly string[]): Manifest {
  const files: Record<string, ManifestEntry> = {};
  for (const name of names) {
    const bytes = readFileSync(path.join(dir, name));
    files[name] = { bytes: bytes.length, sha256: sha256Hex(bytes) };
  }
  const manifest: Manifest = { format: 1, files };
  writeJsonAtomic(path.join(dir, MANIFEST_FILE), manifest);
  return manifest;
}

/**
 * Checks every file the manifest of `dir` lists and returns their contents (read once, so what
 * was checked is what is used). Throws IntegrityError naming the first file that does not match;
 * `fix` says what the caller can do about it.
 */
export function readVerified(dir: string, fix: string): Map<string, Buffer> {
  const manifestFile = path.join(dir, MANIFEST_FILE);
  let manifest: Manifest;
  try {
    manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Manifest;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new IntegrityError(
      manifestFile,
      'the manifest written when the directory was complete',
      code === 'ENOENT' ? 'no such file' : `an unreadable file (${(error as Error).message})`,
      fix,
    );
  }
  if (manifest?.format !== 1 || typeof manifest.files !== 'object' || manifest.files === null) {
    throw new IntegrityError(manifestFile, 'a manifest of format 1', 'something else', fix);
  }
  const contents = new Map<string, Buffer>();
  for (const [name, entry] of Object.entries(manifest.files)) {
    const file = path.join(dir, name);
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch (error) {
      throw new IntegrityError(
        file,
        `${entry.bytes} bytes`,
        (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message,
        fix,
      );
    }
    if (bytes.length !== entry.bytes)
      throw new IntegrityError(
        file,
        `${entry.bytes} bytes`,
        `${bytes.length} bytes (truncated or replaced)`,
        fix,
      );
    const sha = sha256Hex(bytes);
    if (sha !== entry.sha256)
      throw new IntegrityError(
        file,
        `SHA-256 ${entry.sha256.slice(0, 16)}…`,
        `${sha.slice(0, 16)}… (its content changed after it was written)`,
        fix,
      );
    contents.set(name, bytes);
  }
  return contents;
}
