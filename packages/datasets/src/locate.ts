import { existsSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { InputError } from '@fisherlab/core';
import { type DatasetDescriptor, describeDataset } from './catalog.js';

/** Environment variable naming the root folder that holds one sub-folder per dataset. */
export const DATA_ENV_VAR = 'FISHERLAB_DATA';

export interface LocateOptions {
  /** The dataset's own directory. When given it is the only place looked at. */
  dir?: string;
  /** Environment to read FISHERLAB_DATA from (default: process.env). */
  env?: Record<string, string | undefined>;
  /** Home directory for the default cache (default: os.homedir()). */
  homeDir?: string;
}

export type DataSource = 'explicit' | 'env' | 'home-cache' | 'system' | 'embedded';

export interface DataCandidate {
  path: string;
  source: DataSource;
}

export interface LocateResult {
  /** The directory holding the dataset's files, or null when none was found. */
  dir: string | null;
  source: DataSource | null;
  /** Every directory looked at, in order. */
  searched: DataCandidate[];
}

/** The home cache root: ~/.cache/fisherlab/datasets. */
export function homeCacheRoot(options: Pick<LocateOptions, 'homeDir'> = {}): string {
  return join(options.homeDir ?? homedir(), '.cache', 'fisherlab', 'datasets');
}

/** Where downloads go by default: $FISHERLAB_DATA, else the home cache. */
export function defaultDataRoot(options: Pick<LocateOptions, 'env' | 'homeDir'> = {}): string {
  const env = options.env ?? process.env;
  const fromEnv = env[DATA_ENV_VAR];
  return fromEnv && fromEnv.length > 0 ? resolve(fromEnv) : homeCacheRoot(options);
}

/** The directories searched for a dataset, in order: explicit dir; $FISHERLAB_DATA/<name>; home cache; system. */
export function candidateDirs(descriptor: DatasetDescriptor, options: LocateOptions = {}): DataCandidate[] {
  const expand = (base: string, source: DataSource): DataCandidate[] =>
    descriptor.folders.map((folder) => ({ path: folder ? join(base, folder) : base, source }));
  if (options.dir !== undefined) return expand(resolve(options.dir), 'explicit');
  const env = options.env ?? process.env;
  const candidates: DataCandidate[] = [];
  const envRoot = env[DATA_ENV_VAR];
  if (envRoot) candidates.push(...expand(join(resolve(envRoot), descriptor.name), 'env'));
  candidates.push(...expand(join(homeCacheRoot(options), descriptor.name), 'home-cache'));
  for (const dir of descriptor.systemDirs) candidates.push(...expand(dir, 'system'));
  return candidates;
}

const isFile = (path: string): boolean => existsSync(path) && statSync(path).isFile();

/** Finds the directory holding a dataset (its marker file present), or reports every place searched. */
export function locateDataset(name: string, options: LocateOptions = {}): LocateResult {
  const descriptor = describeDataset(name);
  const searched = candidateDirs(descriptor, options);
  for (const candidate of searched) {
    if (descriptor.markerFiles.some((marker) => isFile(join(candidate.path, marker)))) {
      return { dir: candidate.path, source: candidate.source, searched };
    }
  }
  return { dir: null, source: null, searched };
}

/** The "not found" error: every place searched, and the fixes. */
export function notFoundError(name: string, result: LocateResult): InputError {
  const descriptor = describeDataset(name);
  const markers = descriptor.markerFiles.join(' or ');
  const places = result.searched.map((c) => `  ${c.path} (${c.source})`).join('\n');
  return new InputError({
    key: 'dir',
    expected: `dataset '${descriptor.name}' (${markers}) in one of\n${places}\n`,
    found: 'none of them',
    fix:
      `download it with downloadDataset('${descriptor.name}'), or pass the directory holding the files ` +
      `as the \`dir\` option, or set ${DATA_ENV_VAR} to a folder containing '${descriptor.name}/'`,
  });
}
