import { isObject, type JsonObject } from '../read/runConfig.js';

/**
 * Config keys that do not make runs different experiments: the seed, the run's name, and where it
 * wrote its output. Runs whose configs agree on everything else form one group. A plain entry is a
 * dotted path from the top ('seed', 'dataset.path'); '**.key' matches that key at any depth.
 */
export const DEFAULT_GROUP_IGNORE_KEYS: readonly string[] = [
  'seed',
  'name',
  'id',
  // Where the data was read from, not which data: the same dataset on another machine.
  'dataset.dir',
  '**.out',
  '**.outDir',
  '**.output',
  '**.outputDir',
  '**.runDir',
  '**.runsDir',
  '**.logDir',
  '**.checkpointDir',
];

/** The config without ignored keys, as canonical JSON (sorted keys): equal strings = same group. */
export function groupKeyOf(
  config: JsonObject,
  ignoreKeys: readonly string[] = DEFAULT_GROUP_IGNORE_KEYS,
): string {
  const anywhere = new Set(ignoreKeys.filter((k) => k.startsWith('**.')).map((k) => k.slice(3)));
  const paths = new Set(ignoreKeys.filter((k) => !k.startsWith('**.')));
  return JSON.stringify(canonical(config, '', (p, key) => paths.has(p) || anywhere.has(key)));
}

function canonical(value: unknown, prefix: string, ignored: (path: string, key: string) => boolean): unknown {
  if (Array.isArray(value)) return value.map((v) => canonical(v, prefix, ignored));
  if (!isObject(value)) return value;
  const out: JsonObject = {};
  for (const key of Object.keys(value).sort()) {
    const p = prefix ? `${prefix}.${key}` : key;
    if (!ignored(p, key)) out[key] = canonical(value[key], p, ignored);
  }
  return out;
}

/** Leaf values of a nested object by dotted path; arrays are leaves. */
export function flatten(value: unknown, prefix = '', out = new Map<string, string>()): Map<string, string> {
  if (isObject(value)) {
    for (const [key, child] of Object.entries(value)) flatten(child, prefix ? `${prefix}.${key}` : key, out);
  } else {
    out.set(prefix, JSON.stringify(value));
  }
  return out;
}

/**
 * A short label per group key naming only what differs between groups (e.g. "lr=0.005, FP α=0.1").
 * With a single group the label names the model, data and learning rate instead.
 */
export function groupLabels(groupKeys: readonly string[]): Map<string, string> {
  const unique = [...new Set(groupKeys)];
  const flats = unique.map((key) => flatten(JSON.parse(key)));
  const allPaths = [...new Set(flats.flatMap((f) => [...f.keys()]))].sort();
  const differing = allPaths.filter((p) => new Set(flats.map((f) => f.get(p) ?? 'absent')).size > 1);
  const labels = new Map<string, string>();
  const taken = new Map<string, number>();
  unique.forEach((key, i) => {
    const flat = flats[i]!;
    const paths = differing.length > 0 ? differing : ['model.arch', 'dataset.name', 'optimizer.lr'];
    const label = describe(flat, paths) || 'all runs';
    // Distinct groups can read alike (e.g. two α values under 'no penalty'); labels must stay unique
    // because charts and group summaries key on them.
    const seen = (taken.get(label) ?? 0) + 1;
    taken.set(label, seen);
    labels.set(key, seen === 1 ? label : `${label} (#${seen})`);
  });
  return labels;
}

function describe(flat: Map<string, string>, paths: readonly string[]): string {
  const value = (p: string): unknown => {
    const raw = flat.get(p);
    return raw === undefined ? undefined : JSON.parse(raw);
  };
  const parts: string[] = [];
  let penaltyDone = false;
  let noiseDone = false;
  for (const p of paths) {
    if (p.startsWith('penalty.')) {
      if (penaltyDone) continue;
      penaltyDone = true;
      parts.push(penaltyLabel(value('penalty.kind'), value('penalty.alpha'), value('penalty.every'), paths));
    } else if (p.startsWith('dataset.noise')) {
      if (noiseDone) continue;
      noiseDone = true;
      const fraction = value('dataset.noise.fraction');
      parts.push(
        typeof fraction === 'number' && fraction > 0
          ? `noise ${Math.round(fraction * 100)}%`
          : 'clean labels',
      );
    } else if (p === 'optimizer.lr') {
      parts.push(`lr=${String(value(p))}`);
    } else if (flat.has(p)) {
      const v = value(p);
      parts.push(
        p === 'model.arch' || p === 'dataset.name'
          ? String(v)
          : `${p}=${typeof v === 'string' ? v : JSON.stringify(v)}`,
      );
    }
  }
  return parts.join(', ');
}

function penaltyLabel(kind: unknown, alpha: unknown, every: unknown, differing: readonly string[]): string {
  if (kind === undefined || kind === 'none') return 'no penalty';
  const name = kind === 'fisher' ? 'FP' : kind === 'gradnorm' ? 'GradNorm' : String(kind);
  const everyPart =
    differing.includes('penalty.every') && typeof every === 'number' && every !== 1 ? ` every ${every}` : '';
  return `${name} α=${String(alpha)}${everyPart}`;
}
