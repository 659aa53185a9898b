import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RUN_FILES } from '@fisherlab/storage';
import { describe, expect, it } from 'vitest';
import * as publicApi from './index.js';

/**
 * One writer per run directory: RunDirectory (with the checkpoint and metrics-log modules it
 * alone uses, and storage's atomic writes and lock). This reads every source file of the workspace
 * and lists those that both name a run directory's files and call a file-writing function; only
 * the writer's own files may.
 */
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

const WRITERS = new Set([
  'packages/training/src/run-directory.ts',
  'packages/training/src/checkpoint.ts',
  'packages/training/src/metrics-log.ts',
  'packages/storage/src/write.ts',
  'packages/storage/src/lock.ts',
  'packages/storage/src/manifest.ts',
  'packages/storage/src/run-files.ts',
]);

const names = Object.values(RUN_FILES).map((n) => n.replace('.', '\\.'));
/** A run file named in code: a string literal of one of RUN_FILES, or the layout's helpers. */
const NAMES_A_RUN_FILE = new RegExp(
  `['"\`](?:${names.join('|')})['"\`/]|\\bRUN_FILES\\b|\\brunFile\\(|\\bATTEMPT_FILES\\b`,
);
const WRITES =
  /\b(?:writeFileSync|writeFile|appendFileSync|appendFile|writeFileAtomic|writeJsonAtomic|writeManifest|rmSync|rm|unlinkSync|renameSync|rename|truncateSync|ftruncateSync|createWriteStream|copyFileSync|cpSync)\s*\(/;

function sources(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'dist' || entry.name.startsWith('.')) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'fixtures' && entry.name !== 'bench') sources(full, out);
    } else if (/\.(ts|mts|js|mjs)$/.test(entry.name) && !/\.(test|bench)\.|\.d\.ts$/.test(entry.name)) {
      out.push(full);
    }
  }
  return out;
}

describe('the run directory has one writer', () => {
  it('no source file outside RunDirectory and storage writes a run file', () => {
    const files = ['packages', 'apps'].flatMap((top) =>
      readdirSync(path.join(repo, top)).flatMap((pkg) => {
        const src = path.join(repo, top, pkg, 'src');
        try {
          return sources(src);
        } catch {
          return [];
        }
      }),
    );
    expect(files.length).toBeGreaterThan(50);
    const offenders = files
      .map((f) => path.relative(repo, f))
      .filter((f) => !WRITERS.has(f))
      .filter((f) => {
        const text = readFileSync(path.join(repo, f), 'utf8');
        return NAMES_A_RUN_FILE.test(text) && WRITES.test(text);
      });
    expect(offenders).toEqual([]);
  });

  it('the check sees a writer: RunDirectory itself names run files and writes', () => {
    const text = readFileSync(path.join(repo, 'packages/training/src/run-directory.ts'), 'utf8');
    expect(NAMES_A_RUN_FILE.test(text) && WRITES.test(text)).toBe(true);
  });

  it('the public API writes a run only through train() and the two helpers for sweep workers', () => {
    const exported = Object.keys(publicApi);
    for (const writer of ['writeCheckpoint', 'MetricsLog', 'RunDirectory', 'ATTEMPT_FILES'])
      expect(exported).not.toContain(writer);
    expect(exported).toEqual(
      expect.arrayContaining(['train', 'clearFailedAttempt', 'recordRunFailure', 'lockRun']),
    );
  });
});
