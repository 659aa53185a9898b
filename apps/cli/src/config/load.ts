import { readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import { UserError } from '../errors.js';
import { type RunConfig, RunConfigSchema } from './schema.js';

/** Keys a strict object at `keyPath` of the schema accepts, to list in an "unknown key" error. */
function allowedKeysAt(schema: z.ZodType, keyPath: readonly PropertyKey[]): string[] | undefined {
  let current: z.ZodType | undefined = schema;
  for (const key of [...keyPath, null]) {
    // unwrap defaults, optionals, nullables, pipes and checks until an object shows up
    for (let i = 0; i < 8 && current && !(current instanceof z.ZodObject); i++) {
      const def = (current as unknown as { def: { innerType?: z.ZodType; in?: z.ZodType } }).def;
      current = def.innerType ?? def.in;
    }
    if (!(current instanceof z.ZodObject)) return undefined;
    if (key === null) return Object.keys(current.shape);
    current = current.shape[String(key)] as z.ZodType | undefined;
  }
  return undefined;
}

/** One line per problem: the key's path, what was wrong, and what is allowed. */
export function formatConfigIssues(
  error: z.ZodError,
  source: string,
  schema: z.ZodType = RunConfigSchema,
): string {
  const lines = error.issues.map((issue) => {
    const where = issue.path.length ? issue.path.join('.') : '(top level)';
    if (issue.code === 'unrecognized_keys') {
      const allowed = allowedKeysAt(schema, issue.path);
      const keys = issue.keys.map((k) => (issue.path.length ? `${where}.${k}` : k)).join(', ');
      return `unknown key ${keys}${allowed ? `; allowed here: ${allowed.join(', ')}` : ''}`;
    }
    const missing = issue.code === 'invalid_type' && /received undefined/.test(issue.message);
    if (missing && (where === 'optimizer' || where === 'optimizer.lr')) {
      return 'optimizer.lr is required (the learning rate has no default: it is what the experiments vary): pass --lr, e.g. --lr 0.01, or set optimizer.lr in the --config file';
    }
    return `${where}: ${issue.message}`;
  });
  return `invalid run config (${source}):\n  ${lines.join('\n  ')}`;
}

/** Validates a config object (from a file, a preset or flags), filling in defaults. */
export function parseRunConfig(input: unknown, source = 'config'): RunConfig {
  const result = RunConfigSchema.safeParse(input);
  if (!result.success) throw new UserError(formatConfigIssues(result.error, source));
  return result.data;
}

/** Reads a JSON or YAML file into a plain object (not yet validated). */
export function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UserError(`cannot read config file ${file}: ${(error as Error).message}. Check the path.`);
  }
  let value: unknown;
  try {
    value = /\.ya?ml$/i.test(file) ? YAML.parse(text) : JSON.parse(text);
  } catch (error) {
    throw new UserError(
      `config file ${file} is not valid ${/\.ya?ml$/i.test(file) ? 'YAML' : 'JSON'}: ${(error as Error).message}`,
    );
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new UserError(
      `config file ${file} must hold an object of settings, found ${Array.isArray(value) ? 'a list' : typeof value}`,
    );
  }
  return value as Record<string, unknown>;
}

/** Deep-merges `override` into `base` (objects merge, everything else replaces). */
export function mergeConfig(
  base: Record<string, unknown>,
  override: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) {
    const prior = out[key];
    out[key] =
      value &&
      typeof value === 'object' &&
      !Array.isArray(value) &&
      prior &&
      typeof prior === 'object' &&
      !Array.isArray(prior)
        ? mergeConfig(prior as Record<string, unknown>, value as Record<string, unknown>)
        : value;
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

export const resolveOutput = (config: RunConfig): string => path.resolve(config.output);
