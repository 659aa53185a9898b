import { readdirSync, readFileSync } from 'node:fs';
import { UserError } from '../errors.js';

/**
 * Presets are JSON files shipped in apps/cli/presets/: a partial run config plus a description that
 * separates what the paper states from what we had to choose (marked unverified).
 */
export interface Preset {
  summary: string;
  known: string[];
  unverified: string[];
  config: Record<string, unknown>;
}

const PRESET_DIR = new URL('../../presets/', import.meta.url);

export const PRESET_NAMES: readonly string[] = readdirSync(PRESET_DIR)
  .filter((f) => f.endsWith('.json'))
  .map((f) => f.replace(/\.json$/, ''))
  .sort();

export function readPreset(name: string): Preset {
  if (!PRESET_NAMES.includes(name)) {
    throw new UserError(`unknown preset '${name}'; shipped presets: ${PRESET_NAMES.join(', ')}`);
  }
  return JSON.parse(readFileSync(new URL(`${name}.json`, PRESET_DIR), 'utf8')) as Preset;
}

export const loadPreset = (name: string): Record<string, unknown> => structuredClone(readPreset(name).config);

export function describePreset(name: string): string {
  const preset = readPreset(name);
  return [
    `${name}: ${preset.summary}`,
    '',
    'From the paper:',
    ...preset.known.map((k) => `  - ${k}`),
    '',
    'Unverified (our choice; override with flags or a config file):',
    ...preset.unverified.map((u) => `  - ${u}`),
    '',
    'Config:',
    JSON.stringify(preset.config, null, 2),
  ].join('\n');
}
