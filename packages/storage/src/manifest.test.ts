import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { IntegrityError, readVerified, sha256Hex, writeManifest } from './manifest.js';

const root = mkdtempSync(path.join(tmpdir(), 'fisherlab-manifest-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const optimizerBytes = new Uint8Array(new Float32Array([0.5, -1, 2]).buffer);

function checkpointDir(name: string): string {
  const dir = path.join(root, name);
  mkdirSync(dir);
  writeFileSync(path.join(dir, 'optimizer.bin'), optimizerBytes);
  writeFileSync(path.join(dir, 'state.json'), '{"step":3}');
  writeManifest(dir, ['optimizer.bin', 'state.json']);
  return dir;
}

const fix = 'start the run again';

function failure(dir: string): IntegrityError {
  try {
    readVerified(dir, fix);
  } catch (error) {
    if (error instanceof IntegrityError) return error;
    throw error;
  }
  throw new Error('readVerified accepted a damaged directory');
}

describe('manifests', () => {
  it('returns the contents of every listed file when all match', () => {
    const dir = checkpointDir('good');
    const contents = readVerified(dir, fix);
    expect(contents.get('state.json')!.toString()).toBe('{"step":3}');
    expect(sha256Hex(contents.get('optimizer.bin')!)).toBe(sha256Hex(optimizerBytes));
  });

  it('names a file zeroed in place (same length)', () => {
    const dir = checkpointDir('zeros');
    writeFileSync(path.join(dir, 'optimizer.bin'), new Uint8Array(optimizerBytes.length));
    const error = failure(dir);
    expect(error.file).toBe(path.join(dir, 'optimizer.bin'));
    expect(error.message).toMatch(
      /optimizer\.bin: expected SHA-256 .*\(its content changed after it was written\)\. Fix: start the run again/,
    );
  });

  it('names a truncated file and a deleted one', () => {
    const cut = checkpointDir('cut');
    truncateSync(path.join(cut, 'optimizer.bin'), 5);
    expect(failure(cut).message).toMatch(/optimizer\.bin: expected 12 bytes, found 5 bytes/);
    const gone = checkpointDir('gone');
    rmSync(path.join(gone, 'state.json'));
    expect(failure(gone).message).toMatch(/state\.json: expected 10 bytes, found no such file/);
  });

  it('treats a directory without its manifest as unfinished', () => {
    const dir = checkpointDir('unfinished');
    rmSync(path.join(dir, 'manifest.json'));
    expect(failure(dir).message).toMatch(
      /manifest\.json: expected the manifest written when the directory was complete, found no such file/,
    );
    writeFileSync(path.join(dir, 'manifest.json'), '{"format":1,"files":');
    expect(failure(dir).message).toMatch(/manifest\.json: .* found an unreadable file/);
  });
});
