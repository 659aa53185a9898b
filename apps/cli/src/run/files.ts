import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.js';

/** Turns a file-system error into one a user can act on (disk full, read-only, permissions). */
export function explainWriteError(error: unknown, target: string): Error {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  const hint: Record<string, string> = {
    ENOSPC: 'the disk is full: free space or choose another --output directory',
    EDQUOT: 'the disk quota is exhausted: free space or choose another --output directory',
    EACCES: 'permission denied: choose a writable --output directory',
    EPERM: 'operation not permitted: choose a writable --output directory',
    EROFS: 'the file system is read-only: choose a writable --output directory',
    ENOTDIR: 'a parent of this path is a file, not a directory: choose another --output',
  };
  if (code && hint[code]) return new UserError(`cannot write ${target}: ${hint[code]} (${code})`);
  return error instanceof Error ? error : new Error(String(error));
}

function fsyncDirectory(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // some file systems refuse fsync on directories; the rename is still atomic there
  }
}

/**
 * Writes a file so that readers see either the old content or the new, never a mix: write a
 * temporary file beside it, fsync, rename over the target, fsync the directory. A failure removes
 * the temporary file and leaves the old content untouched.
 */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    const fd = openSync(tmp, 'w');
    try {
      const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
      let offset = 0;
      while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
    fsyncDirectory(path.dirname(file));
  } catch (error) {
    try {
      rmSync(tmp, { force: true });
    } catch {
      // nothing was created where nothing can be
    }
    throw explainWriteError(error, file);
  }
}

export const writeJsonAtomic = (file: string, value: unknown): void =>
  writeFileAtomic(file, `${JSON.stringify(value, null, 2)}\n`);
