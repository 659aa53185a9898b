import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import { TrainingError } from './errors.js';

/**
 * Run configs as people write them: JSON or YAML files, layered (a preset, a file, flags, a sweep's
 * axis values), each layer a partial config merged over the one below. parseRunConfig validates
 * the result.
 */

/** Reads a JSON or YAML file into a plain object (not yet validated). */
export function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new TrainingError(`cannot read config file ${file}: ${(error as Error).message}. Check the path.`);
  }
  const yaml = /\.ya?ml$/i.test(file);
  let value: unknown;
  try {
    value = yaml ? YAML.parse(text) : JSON.parse(text);
  } catch (error) {
    throw new TrainingError(
      `config file ${file} is not valid ${yaml ? 'YAML' : 'JSON'}: ${(error as Error).message}`,
    );
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TrainingError(
      `config file ${file} must hold an object of settings, found ${Array.isArray(value) ? 'a list' : typeof value}`,
    );
  }
  return value as Record<string, unknown>;
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** Deep-merges `override` into `base` (objects merge, everything else replaces). */
export function mergeConfig(
  base: Record<string, unknown>,
  override: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) {
    const prior = out[key];
    out[key] = isPlainObject(value) && isPlainObject(prior) ? mergeConfig(prior, value) : value;
  }
  return out;
}

/** Sets `a.b.c = value` in a nested object, creating the path. */
export function setPath(target: Record<string, unknown>, dotted: string, value: unknown): void {
  const keys = dotted.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    if (!next || typeof next !== 'object') node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys.at(-1)!] = value;
}
