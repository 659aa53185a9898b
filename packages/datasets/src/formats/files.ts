import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { errnoCode, fileError } from '../errors.js';

export function md5Hex(bytes: Uint8Array): string {
  return createHash('md5').update(bytes).digest('hex');
}

/** Reads a file, turning "not there" into an error that names it and says how to fix it. */
export async function readDataFile(path: string, fix: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'ENOENT') throw fileError(path, 'the file to exist', 'no such file', fix);
    if (code === 'EISDIR') throw fileError(path, 'a file', 'a directory', fix);
    throw error;
  }
}

const isGzip = (bytes: Uint8Array): boolean => bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;

/** Gunzips `bytes` when they start with the gzip magic; a damaged stream is reported against `path`. */
export function maybeGunzip(bytes: Buffer, path: string, fix: string): Buffer {
  if (!isGzip(bytes)) return bytes;
  try {
    return gunzipSync(bytes);
  } catch (error) {
    throw fileError(
      path,
      'a complete gzip stream',
      `a gzip stream that fails to decompress (${(error as Error).message}; truncated or corrupt)`,
      fix,
    );
  }
}
