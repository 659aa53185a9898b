import type { ConfigChange } from '@fisherlab/storage';
import type { RunConfig } from './spec.js';

/**
 * Config keys a resumed run may change: more (or fewer remaining) epochs leave every step so far
 * valid. Any other change would make the steps after the resume those of another run, so a resume
 * that changes one is refused (ResumeRefusedError). `output` is not compared: it is the directory.
 */
export const RESUME_SAFE_KEYS: readonly string[] = ['epochs'];

/** Every leaf of a config as a dotted key and its JSON text, for comparing two configs. */
function leaves(value: unknown, prefix = '', out = new Map<string, string>()): Map<string, string> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) leaves(v, prefix ? `${prefix}.${k}` : k, out);
  } else {
    out.set(prefix, JSON.stringify(value));
  }
  return out;
}

/** The keys whose values differ between two configs (dotted, sorted), with each value before and after. */
export function configDifferences(before: RunConfig, after: RunConfig): ConfigChange[] {
  const a = leaves({ ...before, output: undefined });
  const b = leaves({ ...after, output: undefined });
  const keys = [...new Set([...a.keys(), ...b.keys()])].sort();
  const parse = (text: string | undefined) => (text === undefined ? undefined : JSON.parse(text));
  return keys
    .filter((k) => a.get(k) !== b.get(k))
    .map((k) => ({ key: k, from: parse(a.get(k)), to: parse(b.get(k)) }));
}

/** The changes a resume from a checkpoint may not make. */
export const unsafeChanges = (changes: readonly ConfigChange[]): ConfigChange[] =>
  changes.filter((c) => !RESUME_SAFE_KEYS.includes(c.key));
