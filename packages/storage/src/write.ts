import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import path from 'node:path';

/**
 * A file or directory that could not be written, with what the code means and what to do. `code`
 * is the operating system's (ENOSPC, EACCES, ...): environment errors, never bugs.
 */
export class WriteError extends Error {
  override readonly name = 'WriteError';
  constructor(
    readonly file: string,
    readonly code: string,
    readonly hint: string,
  ) {
    super(`cannot write ${file}: ${hint} (${code})`);
  }
}

/** What each environment error code means for a file being written, and the fix. */
export const WRITE_ERROR_HINTS: Readonly<Record<string, string>> = {
  ENOSPC: 'the disk is full: free space or write somewhere else',
  EDQUOT: 'the disk quota is exhausted: free space or write somewhere else',
  EACCES: 'permission denied: choose a writable location',
  EPERM: 'operation not permitted: choose a writable location',
  EROFS: 'the file system is read-only: choose a writable location',
  ENOTDIR: 'a parent of this path is a file, not a directory: choose another path',
  EISDIR: 'this path is a directory: name a file inside it instead',
  ENOENT: 'a parent directory does not exist and cannot be created there: choose another path',
  ENAMETOOLONG: 'the path is too long: choose a shorter one',
  EMFILE: 'too many open files: raise the limit (ulimit -n) or run fewer processes',
  EIO: 'the device reported an I/O error: check the disk',
};

const codeOf = (error: unknown): string | undefined =>
  typeof error === 'object' && error !== null && 'code' in error
    ? String((error as { code: unknown }).code)
    : undefined;

/** A WriteError for `target` when `error` is an environment error, else `error` itself. */
export function explainWriteError(error: unknown, target: string): Error {
  if (error instanceof WriteError) return error;
  const code = codeOf(error);
  if (code && WRITE_ERROR_HINTS[code]) return new WriteError(target, code, WRITE_ERROR_HINTS[code]);
  return error instanceof Error ? error : new Error(String(error));
}

/**
 * Creates `dir` and its missing parents. Node's own recursive mkdir loops forever where a parent
 * refuses new entries with ENOENT (/proc, some FUSE mounts); this walks up to the nearest existing
 * ancestor and creates each level once, so such a path fails at once with the reason.
 */
export function ensureDirectory(dir: string): void {
  const missing: string[] = [];
  let current = path.resolve(dir);
  for (;;) {
    try {
      if (statSync(current).isDirectory()) break;
      throw new WriteError(current, 'ENOTDIR', WRITE_ERROR_HINTS['ENOTDIR']!);
    } catch (error) {
      if (error instanceof WriteError) throw error;
      const code = codeOf(error);
      if (code !== 'ENOENT') throw explainWriteError(error, current);
      missing.push(current);
      const parent = path.dirname(current);
      if (parent === current) break;
      current = parent;
    }
  }
  for (const level of missing.reverse()) {
    try {
      mkdirSync(level);
    } catch (error) {
      if (codeOf(error) === 'EEXIST' && statSync(level).isDirectory()) continue; // made concurrently
      throw explainWriteError(error, level);
    }
  }
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
 * Writes a file so that readers see either the old content or the new, never a mix, even after a
 * SIGKILL or a power cut: write a temporary file beside it, fsync, rename over the target, fsync
 * the directory. A failure removes the temporary file, leaves the old content untouched and throws
 * a WriteError (disk full, permissions, ...) naming the target.
 */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const target = path.resolve(file);
  const tmp = path.join(
    path.dirname(target),
    `.${path.basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
  );
  try {
    const fd = openSync(tmp, 'wx');
    try {
      const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
      let offset = 0;
      while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, target);
    fsyncDirectory(path.dirname(target));
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
