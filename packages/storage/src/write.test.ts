import * as realFs from 'node:fs';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';

/** When set, the next writeSync fails with this errno code (a simulated full disk, ...). */
const failure: { code?: string } = {};
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  return {
    ...fs,
    writeSync: (...args: Parameters<typeof fs.writeSync>) => {
      if (failure.code) {
        const error = new Error(`${failure.code}: simulated`) as NodeJS.ErrnoException;
        error.code = failure.code;
        throw error;
      }
      return (fs.writeSync as (...a: unknown[]) => number)(...args);
    },
  };
});

const { ensureDirectory, writeFileAtomic } = await import('./write.js');
const dir = mkdtempSync(path.join(tmpdir(), 'fisherlab-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('writeFileAtomic', () => {
  it('replaces the content whole', () => {
    const file = path.join(dir, 'meta.json');
    writeFileAtomic(file, 'first');
    writeFileAtomic(file, 'second');
    expect(readFileSync(file, 'utf8')).toBe('second');
    expect(readdirSync(dir)).toEqual(['meta.json']);
  });

  it('on a full disk keeps the old content, leaves no temporary file, and says what to do', () => {
    const file = path.join(dir, 'config.json');
    writeFileSync(file, 'good result');
    failure.code = 'ENOSPC';
    try {
      expect(() => writeFileAtomic(file, 'new content')).toThrow(
        /cannot write .*config\.json: the disk is full: free space or write somewhere else \(ENOSPC\)/,
      );
    } finally {
      failure.code = undefined;
    }
    expect(readFileSync(file, 'utf8')).toBe('good result');
    expect(readdirSync(dir).sort()).toEqual(['config.json', 'meta.json']);
  });

  it('names a path that cannot hold files', () => {
    const notADirectory = path.join(dir, 'meta.json', 'x.json');
    expect(() => writeFileAtomic(notADirectory, '{}')).toThrow(/a parent of this path is a file/);
    expect(realFs.existsSync(notADirectory)).toBe(false);
  });

  it('replaces the file by rename, so a reader holding the old file never sees a partial new one', () => {
    // A hard link keeps the old inode reachable: an in-place rewrite (truncate, then write) would
    // change what it reads; a rename leaves it whole.
    const file = path.join(dir, 'report.html');
    writeFileAtomic(file, 'old report');
    const reader = path.join(dir, 'reader-view');
    realFs.linkSync(file, reader);
    writeFileAtomic(file, 'new report');
    expect(readFileSync(reader, 'utf8')).toBe('old report');
    expect(readFileSync(file, 'utf8')).toBe('new report');
    rmSync(reader);
    rmSync(file);
  });

  it('refuses a directory as the target, naming it', () => {
    const target = path.join(dir, 'a-directory');
    realFs.mkdirSync(target);
    expect(() => writeFileAtomic(target, 'x')).toThrow(/a-directory: this path is a directory/);
    realFs.rmdirSync(target);
  });
});

describe('ensureDirectory', () => {
  it('creates missing parents', () => {
    const deep = path.join(dir, 'a', 'b', 'c');
    ensureDirectory(deep);
    expect(realFs.statSync(deep).isDirectory()).toBe(true);
    realFs.rmSync(path.join(dir, 'a'), { recursive: true });
  });

  it('fails at once under /proc, where a recursive mkdir spins forever', () => {
    expect(() => ensureDirectory('/proc/fisherlab-x/y')).toThrow(/cannot write \/proc\/fisherlab-x/);
  });

  it('names a parent that is a file', () => {
    realFs.writeFileSync(path.join(dir, 'plain'), '');
    expect(() => ensureDirectory(path.join(dir, 'plain', 'sub'))).toThrow(
      /plain\/sub: a parent of this path is a file/,
    );
    realFs.rmSync(path.join(dir, 'plain'));
  });
});
