import path from 'node:path';
import { formatConfigIssues, mergeConfig, readConfigFile } from '@fisherlab/training';
import { z } from 'zod';
import { SweepError } from './errors.js';

/**
 * The sweep file: a base run config and the axes that vary it. Keys of the axes are dotted run
 * config keys (`optimizer.lr`, `penalty.alpha`); the resolved run configs are checked against the
 * run config schema when the sweep is planned.
 */

/** A dotted run-config key such as `optimizer.lr`. */
const configKey = z
  .string()
  .regex(
    /^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*)*$/,
    'expected a dotted config key such as optimizer.lr',
  );

const axisValues = z.array(z.unknown()).min(1, 'an axis needs at least one value');

export const SweepFileSchema = z.strictObject({
  /** Names the sweep in run tags, in the Kubernetes Job and the Slurm job (a DNS label). */
  name: z
    .string()
    .regex(
      /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/,
      'use lower-case letters, digits and dashes (it names a Kubernetes Job)',
    )
    .max(40),
  description: z.string().default(''),
  /** A shipped preset (`fisherlab train --preset`) the base starts from. */
  preset: z.string().optional(),
  /** The run config every run starts from (over the preset): an object, or a path to a run config file (relative to the sweep file). */
  base: z.union([z.string().min(1), z.record(z.string(), z.unknown())]).default({}),
  /** Cartesian product: every combination of these values. */
  grid: z.record(configKey, axisValues).default({}),
  /** Each entry is one axis whose keys vary together (equal-length lists, taken position by position). */
  zip: z.array(z.record(configKey, axisValues)).default([]),
  /** One axis of hand-written arms, each a set of dotted keys: e.g. no penalty, and FP at two strengths. */
  variants: z.array(z.record(configKey, z.unknown())).default([]),
  /** Seeds, the outermost axis: a list, or {count, start}. */
  seeds: z
    .union([
      z.array(z.number().int().min(0)).min(1),
      z.strictObject({ count: z.number().int().positive(), start: z.number().int().min(0).default(0) }),
    ])
    .optional(),
  /** Added to every run's tags (besides `sweep:<name>`). */
  tags: z.array(z.string()).default([]),
  /**
   * Threads of the native CPU kernels in every run (FISHERLAB_NATIVE_THREADS), on every engine:
   * results depend on the thread count in their last digits, so a run id gets one.
   */
  threads: z.number().int().min(1).max(256).default(1),
});

export type SweepFile = z.output<typeof SweepFileSchema>;

/** One axis of the expansion: each of its `points` assigns values to one or more config keys. */
export interface Axis {
  /** What the axis is called in messages: its key, or the keys it zips. */
  label: string;
  points: Record<string, unknown>[];
}

export interface SweepSpec {
  name: string;
  description: string;
  /** Absolute path of the sweep file ('' when built in memory). */
  source: string;
  base: Record<string, unknown>;
  /** Outermost first: the last axis varies fastest between consecutive run indices. */
  axes: Axis[];
  tags: string[];
  /** Native CPU threads per run, the same on every engine. */
  threads: number;
}

export interface SweepFileOptions {
  /** Resolves the sweep file's `preset:` key (the CLI passes its shipped presets). */
  loadPreset?: (name: string) => Record<string, unknown>;
}

/** Validates a sweep object and turns it into axes; `source` names the file in errors. */
export function parseSweep(input: unknown, source: string, options: SweepFileOptions = {}): SweepSpec {
  const result = SweepFileSchema.safeParse(input);
  if (!result.success) {
    throw new SweepError(
      formatConfigIssues(result.error, source, SweepFileSchema).replace(
        'invalid run config',
        'invalid sweep file',
      ),
    );
  }
  const file = result.data;
  const own =
    typeof file.base === 'string'
      ? readConfigFile(path.resolve(source ? path.dirname(source) : process.cwd(), file.base))
      : file.base;
  const base = file.preset ? mergeConfig(presetOf(file.preset, source, options), own) : own;

  const axes: Axis[] = [];
  if (file.seeds !== undefined) {
    const seeds = Array.isArray(file.seeds)
      ? file.seeds
      : Array.from({ length: file.seeds.count }, (_, i) => (file.seeds as { start: number }).start + i);
    if (new Set(seeds).size !== seeds.length) {
      throw new SweepError(
        `sweep file ${source}: seeds lists a seed twice (${seeds.join(', ')}); list each seed once`,
      );
    }
    axes.push({ label: 'seed', points: seeds.map((seed) => ({ seed })) });
  }
  for (const [key, values] of Object.entries(file.grid)) {
    axes.push({ label: key, points: values.map((value) => ({ [key]: value })) });
  }
  file.zip.forEach((group, g) => {
    const entries = Object.entries(group);
    const lengths = entries.map(([, values]) => values.length);
    if (new Set(lengths).size > 1) {
      const found = entries.map(([key, values]) => `${key}: ${values.length}`).join(', ');
      throw new SweepError(
        `sweep file ${source}: zip[${g}] zips lists of different lengths (${found}); give every key in one zip entry the same number of values`,
      );
    }
    const points = Array.from({ length: lengths[0] ?? 0 }, (_, i) =>
      Object.fromEntries(entries.map(([key, values]) => [key, values[i]])),
    );
    if (points.length > 0) axes.push({ label: entries.map(([key]) => key).join('+'), points });
  });
  if (file.variants.length > 0) {
    axes.push({ label: 'variants', points: file.variants.map((variant) => ({ ...variant })) });
  }
  checkAxisKeys(axes, source);
  const { name, description, tags, threads } = file;
  return { name, description, source, base, axes, tags, threads };
}

function presetOf(name: string, source: string, options: SweepFileOptions): Record<string, unknown> {
  if (!options.loadPreset) {
    throw new SweepError(
      `sweep file ${source}: preset '${name}' cannot be resolved here (no preset loader was given); put the preset's settings under base:, or plan it with \`fisherlab sweep plan\``,
    );
  }
  return options.loadPreset(name);
}

/** Two axes setting the same key (or one a parent of the other) would make the result depend on order. */
function checkAxisKeys(axes: Axis[], source: string): void {
  const owner = new Map<string, string>();
  for (const axis of axes) {
    const keys = new Set(axis.points.flatMap((point) => Object.keys(point)));
    for (const key of keys) {
      for (const [other, otherAxis] of owner) {
        if (other === key || other.startsWith(`${key}.`) || key.startsWith(`${other}.`)) {
          throw new SweepError(
            `sweep file ${source}: key ${key} (axis ${axis.label}) overlaps ${other} (axis ${otherAxis}); each config key may be varied by one axis only: move the values into one axis`,
          );
        }
      }
    }
    for (const key of keys) owner.set(key, axis.label);
  }
}

/** Reads and validates a sweep file (YAML or JSON). */
export function loadSweepFile(file: string, options: SweepFileOptions = {}): SweepSpec {
  const absolute = path.resolve(file);
  return parseSweep(readConfigFile(absolute), absolute, options);
}
