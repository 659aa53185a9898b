import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { RUN_MARKERS } from '@fisherlab/storage';
import { RunDataError } from './errors.js';

/**
 * Every run directory under `root` (at any depth), in sorted order. A run directory is one holding
 * meta.json or metrics.jsonl; its subdirectories are not searched further. Hidden directories and
 * node_modules are skipped.
 */
export async function findRunDirs(root: string): Promise<string[]> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(root, { withFileTypes: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new RunDataError(
        `${root}: expected a run directory or a directory of runs, found nothing there. Fix: pass the folder training wrote to.`,
      );
    }
    if (code === 'ENOTDIR') {
      throw new RunDataError(
        `${root}: expected a directory, found a file. Fix: pass the run's folder, not one of its files.`,
      );
    }
    throw error;
  }
  if (entries.some((e) => e.isFile() && RUN_MARKERS.includes(e.name))) return [root];
  const found: string[] = [];
  const subdirs = entries
    .filter((e) => e.isDirectory() && !e.name.startsWith('.') && e.name !== 'node_modules')
    .map((e) => e.name)
    .sort();
  for (const name of subdirs) found.push(...(await findRunDirs(path.join(root, name))));
  return found;
}
