import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ensureDirectory, writeJsonAtomic } from '@fisherlab/storage';
import { mergeConfig, parseRunConfig, type RunConfig, setPath } from '@fisherlab/training';
import { SweepError } from './errors.js';
import type { SweepSpec } from './spec.js';

/**
 * A plan is a sweep expanded into numbered runs. It is written once (DIR/plan.json) and read by
 * every worker, so it holds everything a worker needs: the resolved config of each run, with its
 * output given relative to the plan directory (the directory may be mounted elsewhere on a cluster).
 */

export const PLAN_FILE = 'plan.json';
export const RUNS_DIR = 'runs';
const PLAN_FORMAT = 'fisherlab-sweep-plan';
const PLAN_VERSION = 1;

export interface PlannedRun {
  index: number;
  /** Short hash of the resolved config without output, name and tags: the same config keeps its id. */
  id: string;
  name: string;
  /** The axis values that made this run, by dotted key. */
  values: Record<string, unknown>;
  /** The resolved run config; `output` is `runs/<id>`, relative to the plan directory. */
  config: RunConfig;
}

export interface SweepPlan {
  format: typeof PLAN_FORMAT;
  version: typeof PLAN_VERSION;
  sweep: string;
  description: string;
  source: string;
  axes: { label: string; size: number }[];
  /** Native CPU threads of every run on every engine (see threads.ts); plans without it ran 1. */
  nativeThreads?: number;
  runs: PlannedRun[];
}

/** JSON with object keys sorted at every depth, so equal values give equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : v,
  );
}

/** Keys that label or place a run without changing what it computes. */
const ID_IGNORED_KEYS = ['output', 'name', 'tags'] as const;

/** The stable id of a run: the first 12 hex digits of sha256(canonical config minus output, name, tags). */
export function runId(config: RunConfig): string {
  const rest: Record<string, unknown> = { ...config };
  for (const key of ID_IGNORED_KEYS) delete rest[key];
  return createHash('sha256').update(canonicalJson(rest)).digest('hex').slice(0, 12);
}

const formatValue = (v: unknown): string => (typeof v === 'string' ? v : canonicalJson(v));

/** A run's name from its axis values: the last segment of each key, or the whole key where two share one. */
function runName(values: Record<string, unknown>, allKeys: string[]): string {
  const short = (key: string) => key.split('.').at(-1)!;
  const counts = new Map<string, number>();
  for (const key of allKeys) counts.set(short(key), (counts.get(short(key)) ?? 0) + 1);
  return Object.entries(values)
    .map(([key, v]) => `${(counts.get(short(key)) ?? 0) > 1 ? key : short(key)}=${formatValue(v)}`)
    .join(' ');
}

/** Expands a sweep into its runs, in a fixed order: the first axis slowest, the last fastest. */
export function planSweep(spec: SweepSpec): SweepPlan {
  const allKeys = [
    ...new Set(spec.axes.flatMap((axis) => axis.points.flatMap((point) => Object.keys(point)))),
  ];
  let combos: Record<string, unknown>[][] = [[]];
  for (const axis of spec.axes)
    combos = combos.flatMap((combo) => axis.points.map((point) => [...combo, point]));

  const runs: PlannedRun[] = [];
  const indexById = new Map<string, number>();
  combos.forEach((points, index) => {
    const values: Record<string, unknown> = Object.assign({}, ...points);
    const override: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(values)) setPath(override, key, value);
    const merged = mergeConfig(structuredClone(spec.base), override);
    const name = runName(values, allKeys) || spec.name;
    const baseTags = Array.isArray(spec.base['tags']) ? (spec.base['tags'] as unknown[]).map(String) : [];
    merged['name'] = name;
    merged['tags'] = [...new Set([...baseTags, ...spec.tags, `sweep:${spec.name}`])];
    merged['output'] = 'pending';
    const where = `${spec.source || 'sweep'}, run ${index}${name ? ` (${name})` : ''}`;
    const config = parseRunConfig(merged, where);
    const id = runId(config);
    const twin = indexById.get(id);
    if (twin !== undefined) {
      throw new SweepError(
        `sweep ${spec.source || spec.name}: runs ${twin} (${runs[twin]!.name}) and ${index} (${name}) resolve to the same config (id ${id}); remove the duplicate value, or vary a key that changes the run (e.g. seeds)`,
      );
    }
    indexById.set(id, index);
    config.output = `${RUNS_DIR}/${id}`;
    runs.push({ index, id, name, values, config });
  });

  return {
    format: PLAN_FORMAT,
    version: PLAN_VERSION,
    sweep: spec.name,
    description: spec.description,
    source: spec.source,
    axes: spec.axes.map((axis) => ({ label: axis.label, size: axis.points.length })),
    nativeThreads: spec.threads,
    runs,
  };
}

export interface PlanWriteSummary {
  file: string;
  runs: number;
  /** Ids that the previous plan in this directory already had. */
  kept: number;
  added: number;
  /** Run directories under runs/ whose id this plan does not list (left in place). */
  orphanedRunDirs: string[];
}

/** Writes DIR/plan.json (atomically) and DIR/runs/; says how the plan relates to what was there. */
export function writePlan(dir: string, plan: SweepPlan): PlanWriteSummary {
  const planDir = path.resolve(dir);
  const file = path.join(planDir, PLAN_FILE);
  const previousIds = new Set(existsSync(file) ? readPlan(planDir).runs.map((run) => run.id) : []);
  try {
    ensureDirectory(path.join(planDir, RUNS_DIR));
  } catch (error) {
    throw new SweepError(
      `cannot create the sweep directory ${planDir}: ${(error as Error).message}; choose a writable --out`,
    );
  }
  writeJsonAtomic(file, plan);
  const ids = new Set(plan.runs.map((run) => run.id));
  const kept = plan.runs.filter((run) => previousIds.has(run.id)).length;
  const orphanedRunDirs = readdirSync(path.join(planDir, RUNS_DIR), { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && !ids.has(entry.name))
    .map((entry) => path.join(RUNS_DIR, entry.name))
    .sort();
  return { file, runs: plan.runs.length, kept, added: plan.runs.length - kept, orphanedRunDirs };
}

/** What `writePlan` did, in a line or three for a person. */
export function formatPlanWrite(summary: PlanWriteSummary): string {
  const lines = [`${summary.runs} runs planned in ${summary.file}`];
  if (summary.kept > 0)
    lines.push(`  ${summary.kept} were already planned there (same ids), ${summary.added} are new`);
  if (summary.orphanedRunDirs.length > 0) {
    lines.push(
      `  ${summary.orphanedRunDirs.length} run directories are not in this plan and were left alone: ${summary.orphanedRunDirs.join(', ')}`,
    );
  }
  return lines.join('\n');
}

/** Reads DIR/plan.json, checking that it is a plan this version understands. */
export function readPlan(dir: string): SweepPlan {
  const file = path.join(path.resolve(dir), PLAN_FILE);
  let plan: SweepPlan;
  try {
    plan = JSON.parse(readFileSync(file, 'utf8')) as SweepPlan;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new SweepError(
      code === 'ENOENT'
        ? `${file} not found: ${dir} is not a planned sweep. Run \`fisherlab sweep plan SWEEP.yaml --out ${dir}\` first`
        : `cannot read ${file}: ${(error as Error).message}. Re-plan with \`fisherlab sweep plan SWEEP.yaml --out ${dir}\``,
    );
  }
  if (plan?.format !== PLAN_FORMAT || plan.version !== PLAN_VERSION || !Array.isArray(plan.runs)) {
    throw new SweepError(
      `${file}: expected a FisherLab sweep plan (format ${PLAN_FORMAT}, version ${PLAN_VERSION}), found format ${String(plan?.format)} version ${String(plan?.version)}. Re-plan it with this version of fisherlab`,
    );
  }
  return plan;
}

/** The run directory of a planned run, for a plan in `dir`. */
export const runDirOf = (dir: string, run: PlannedRun): string =>
  path.join(path.resolve(dir), RUNS_DIR, run.id);
