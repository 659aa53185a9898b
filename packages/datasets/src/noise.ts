import { InputError, Rng } from '@fisherlab/core';

/**
 * Label noise for memorization studies. A fraction p of the training examples is picked (exactly
 * round(p * n), without replacement, seeded) and relabeled:
 *  - 'symmetric': a uniformly random DIFFERENT class (every picked label changes);
 *  - 'uniform': a uniformly random class, possibly the same one ("random labels"; about p(1 - 1/C)
 *    of the labels change);
 *  - 'flip': a fixed class-to-class map (e.g. truck -> automobile); p is taken per mapped source
 *    class (round(p * n_c) of class c), classes absent from the map are untouched.
 */
/** The modes that need no class map: what a run config can ask for by name. */
export const RANDOM_NOISE_MODES = ['symmetric', 'uniform'] as const;

export type LabelNoiseSpec =
  | { mode: 'symmetric'; fraction: number; seed: number }
  | { mode: 'uniform'; fraction: number; seed: number }
  | { mode: 'flip'; fraction: number; seed: number; map: Record<number, number> };

export interface LabelNoiseResult {
  /** Labels to train on. */
  labels: Int32Array;
  /** The labels before noise. */
  originalLabels: Int32Array;
  /** 1 where labels[i] !== originalLabels[i]: the examples whose label changed. */
  mask: Uint8Array;
  /** 1 where the example was picked for relabeling (differs from `mask` only in 'uniform' mode). */
  picked: Uint8Array;
  /** Count of changed labels. */
  changed: number;
  spec: LabelNoiseSpec;
  /** Stable string form of the spec, for run metadata (see formatNoiseSpec). */
  id: string;
}

function checkSpec(spec: LabelNoiseSpec, numClasses: number): void {
  const where = `label noise '${formatNoiseSpec(spec)}'`;
  if (!(spec.fraction >= 0 && spec.fraction <= 1)) {
    throw new RangeError(`${where}: expected fraction in [0, 1], found ${spec.fraction}`);
  }
  if (!Number.isSafeInteger(spec.seed))
    throw new RangeError(`${where}: expected an integer seed, found ${spec.seed}`);
  if (spec.mode === 'symmetric' && numClasses < 2)
    throw new RangeError(`${where}: symmetric noise needs >= 2 classes`);
  if (spec.mode === 'flip') {
    for (const [from, to] of Object.entries(spec.map)) {
      const source = Number(from);
      const ok = (c: number): boolean => Number.isInteger(c) && c >= 0 && c < numClasses;
      if (!ok(source) || !ok(to) || source === to) {
        throw new RangeError(
          `${where}: expected map entries source -> target, distinct classes in 0..${numClasses - 1}, found ${from} -> ${to}`,
        );
      }
    }
  }
}

/** Picks exactly k of the given candidates (partial Fisher-Yates). */
function pick(candidates: number[], k: number, rng: Rng): number[] {
  for (let i = 0; i < k; i++) {
    const j = i + rng.nextInt(candidates.length - i);
    const tmp = candidates[i]!;
    candidates[i] = candidates[j]!;
    candidates[j] = tmp;
  }
  return candidates.slice(0, k);
}

/** Applies label noise; deterministic in (labels, numClasses, spec). Does not modify `labels`. */
export function applyLabelNoise(
  labels: Int32Array,
  numClasses: number,
  spec: LabelNoiseSpec,
): LabelNoiseResult {
  checkSpec(spec, numClasses);
  const rng = Rng.fromSeed(spec.seed);
  const noisy = Int32Array.from(labels);
  const picked = new Uint8Array(labels.length);
  if (spec.mode === 'flip') {
    for (const [from, to] of Object.entries(spec.map).sort(([a], [b]) => Number(a) - Number(b))) {
      const source = Number(from);
      const members: number[] = [];
      for (let i = 0; i < labels.length; i++) if (labels[i] === source) members.push(i);
      for (const i of pick(members, Math.round(spec.fraction * members.length), rng)) {
        picked[i] = 1;
        noisy[i] = to;
      }
    }
  } else {
    const all = Array.from({ length: labels.length }, (_, i) => i);
    for (const i of pick(all, Math.round(spec.fraction * labels.length), rng).sort((a, b) => a - b)) {
      picked[i] = 1;
      if (spec.mode === 'uniform') {
        noisy[i] = rng.nextInt(numClasses);
      } else {
        // A uniform draw from the C - 1 other classes: skip over the true one.
        const draw = rng.nextInt(numClasses - 1);
        noisy[i] = draw >= labels[i]! ? draw + 1 : draw;
      }
    }
  }
  const mask = new Uint8Array(labels.length);
  let changed = 0;
  for (let i = 0; i < labels.length; i++) {
    if (noisy[i] !== labels[i]) {
      mask[i] = 1;
      changed++;
    }
  }
  return {
    labels: noisy,
    originalLabels: Int32Array.from(labels),
    mask,
    picked,
    changed,
    spec,
    id: formatNoiseSpec(spec),
  };
}

/**
 * Stable text form: 'none', 'symmetric:p=0.2:seed=1', 'uniform:p=1:seed=0',
 * 'flip:p=0.4:seed=0:map=2>0,9>1' (map sorted by source class). parseNoiseSpec reads it back.
 */
export function formatNoiseSpec(spec: LabelNoiseSpec | null | undefined): string {
  if (!spec) return 'none';
  const base = `${spec.mode}:p=${spec.fraction}:seed=${spec.seed}`;
  if (spec.mode !== 'flip') return base;
  const map = Object.entries(spec.map)
    .map(([a, b]) => [Number(a), b] as const)
    .sort((x, y) => x[0] - y[0])
    .map(([a, b]) => `${a}>${b}`)
    .join(',');
  return `${base}:map=${map}`;
}

/**
 * Parses the text form. Short forms are accepted too: 'symmetric:0.2' (seed 0), 'uniform:1:seed=3'.
 * Returns null for 'none'.
 */
export function parseNoiseSpec(text: string): LabelNoiseSpec | null {
  const trimmed = text.trim();
  if (trimmed === '' || trimmed === 'none') return null;
  const fail = (why: string): never => {
    throw new InputError({
      key: 'label noise',
      expected:
        "'none', 'symmetric:p=<fraction>[:seed=<int>]', 'uniform:p=...' or 'flip:p=...:map=<from>><to>,...'",
      found: `'${text}' (${why})`,
      fix: "write it like 'symmetric:p=0.2:seed=0'",
    });
  };
  const [mode, ...fields] = trimmed.split(':');
  if (mode !== 'symmetric' && mode !== 'uniform' && mode !== 'flip') return fail(`unknown mode '${mode}'`);
  let fraction: number | undefined;
  let seed = 0;
  let map: Record<number, number> | undefined;
  for (const field of fields) {
    const eq = field.indexOf('=');
    const key = eq < 0 ? 'p' : field.slice(0, eq);
    const value = eq < 0 ? field : field.slice(eq + 1);
    if (key === 'p') {
      fraction = Number(value);
      if (!Number.isFinite(fraction) || value === '') fail(`p is not a number`);
    } else if (key === 'seed') {
      seed = Number(value);
      if (!Number.isSafeInteger(seed)) fail('seed is not an integer');
    } else if (key === 'map') {
      map = {};
      for (const pair of value.split(',')) {
        const [a, b] = pair.split('>').map(Number);
        if (a === undefined || b === undefined || !Number.isInteger(a) || !Number.isInteger(b)) {
          fail(`map entry '${pair}' is not <int>><int>`);
        }
        map[a!] = b!;
      }
    } else {
      fail(`unknown field '${key}'`);
    }
  }
  if (fraction === undefined) return fail('p is missing');
  if (mode === 'flip') {
    if (!map) return fail('flip needs map=');
    return { mode, fraction, seed, map };
  }
  return { mode, fraction, seed };
}
