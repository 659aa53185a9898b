import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { MetricRecord, RunMeta, RunStatus } from '@fisherlab/storage';
import { readRunState, runFile } from '@fisherlab/storage';
import type { ColumnTable } from 'arquero';
import * as aq from 'arquero';
import { DEFAULT_GROUP_IGNORE_KEYS, groupKeyOf, groupLabels } from '../analysis/groups.js';
import { RunDataError } from './errors.js';
import { findRunDirs } from './findRunDirs.js';
import { parseMetricsJsonl } from './parseMetrics.js';
import { isObject, type JsonObject, type RunConfigView, readConfigView } from './runConfig.js';

/** 'unknown' when the run has no meta.json. */
export type RunState = RunStatus | 'unknown';

export interface RunInfo {
  id: string;
  dir: string;
  name: string;
  status: RunState;
  /** For diverged/failed runs: the writer's error message, with step and quantity when given. */
  statusDetail: string | null;
  meta: RunMeta | null;
  /** The resolved config as written, or null when config.json is missing. */
  config: JsonObject | null;
  view: RunConfigView;
  groupKey: string;
  group: string;
  records: MetricRecord[];
}

export interface RunTables {
  /** One row per run: runId, dir, name, groupKey, group, seed, status, statusDetail, dataset, arch, optimizer, lr, penaltyKind, penaltyAlpha, noiseFraction, epochs, lastEpoch, lastStep. */
  runs: ColumnTable;
  /** Tr(F) measurements: runId, group, step, epoch, estimator, traceF, traceFStdErr, examples. */
  fisher: ColumnTable;
  /** Evaluation passes: runId, group, step, epoch, and the accuracy/loss columns of EvalRecord (null when not measured). */
  evals: ColumnTable;
  /** Logged training steps: runId, group, step, epoch, lr, loss, accuracy, penalty. */
  train: ColumnTable;
  /** Curvature probes: runId, group, step, epoch, traceH, traceHStdErr, topEigenvalue. */
  curvature: ColumnTable;
}

export interface RunSet {
  runs: RunInfo[];
  tables: RunTables;
  /** What was tolerated while reading (cut-off lines, missing files), one sentence each. */
  notes: string[];
  /** Run directories left out because their records could not be read, with the reason. */
  skipped: { dir: string; reason: string }[];
}

export interface ReadRunsOptions {
  /** Config keys ignored when grouping runs (default DEFAULT_GROUP_IGNORE_KEYS). */
  groupIgnoreKeys?: readonly string[];
  /**
   * 'config' (default): runs whose configs agree but for ignored keys form a group, labelled by what
   * differs between groups. 'name': runs with the same name form a group labelled by that name (for
   * a caller that names its arms, such as the demo, whose arms differ in several keys at once).
   */
  groupBy?: 'config' | 'name';
}

/** Reads every run directory under the given roots (each a run directory or a tree of them). */
export async function readRuns(
  roots: string | readonly string[],
  options: ReadRunsOptions = {},
): Promise<RunSet> {
  const notes: string[] = [];
  const ignore = options.groupIgnoreKeys ?? DEFAULT_GROUP_IGNORE_KEYS;
  const found: { root: string; dir: string }[] = [];
  for (const root of typeof roots === 'string' ? [roots] : roots) {
    for (const dir of await findRunDirs(root)) found.push({ root, dir });
  }
  const seenIds = new Set<string>();
  const partial: Omit<RunInfo, 'group'>[] = [];
  const skipped: RunSet['skipped'] = [];
  for (const { root, dir } of found) {
    try {
      const run = await readRun(root, dir, seenIds, ignore, notes, options.groupBy ?? 'config');
      partial.push(run);
    } catch (error) {
      if (!(error instanceof RunDataError)) throw error;
      skipped.push({ dir, reason: error.message });
      notes.push(`Run ${dir} was left out: ${error.message}`);
    }
  }
  const labels =
    options.groupBy === 'name'
      ? new Map(partial.map((r) => [r.groupKey, r.groupKey]))
      : groupLabels(partial.filter((r) => r.config !== null).map((r) => r.groupKey));
  const runs: RunInfo[] = partial.map((r) => ({ ...r, group: labels.get(r.groupKey) ?? `run ${r.id}` }));
  return { runs, tables: buildTables(runs), notes, skipped };
}

/**
 * The run's status as storage's readRunState judges it: a meta.json that says 'running' is
 * believed only while a live process holds the run's lock (otherwise the process was killed and
 * the run is interrupted); a damaged meta.json or config.json leaves the run out, naming the file.
 */
function runStatus(dir: string, meta: RunMeta | null): { status: RunState; detail?: string } {
  const state = readRunState(dir);
  if (state.damaged) {
    throw new RunDataError(`${state.damaged.file}: ${state.damaged.reason}. Fix: repair or delete the file.`);
  }
  if (meta === null || state.state === 'pending' || state.state === 'damaged') return { status: 'unknown' };
  if (state.state === 'interrupted' && meta.status === 'running')
    return { status: 'interrupted', detail: `${state.detail}; resume it to continue` };
  return { status: state.state };
}

async function readRun(
  root: string,
  dir: string,
  seenIds: Set<string>,
  ignore: readonly string[],
  notes: string[],
  groupBy: 'config' | 'name',
): Promise<Omit<RunInfo, 'group'>> {
  {
    const meta = await readJsonFile<RunMeta>(runFile(dir, 'meta'));
    const config = await readJsonFile<JsonObject>(runFile(dir, 'config'));
    const view = readConfigView(config, runFile(dir, 'config'));
    const relative = path.relative(root, dir) || path.basename(dir);
    let id = meta?.id ?? relative;
    for (let k = 2; seenIds.has(id); k++) id = `${meta?.id ?? relative}#${k}`;
    seenIds.add(id);

    let records: MetricRecord[] = [];
    const metricsFile = runFile(dir, 'metrics');
    const metricsText = await readTextIfExists(metricsFile);
    if (metricsText === null) {
      notes.push(`Run ${id}: no metrics.jsonl yet; it has no curves.`);
    } else {
      const parsed = parseMetricsJsonl(metricsText, metricsFile);
      records = parsed.records;
      if (parsed.partialLastLine) {
        notes.push(
          `Run ${id}: the last line of metrics.jsonl was cut off (still being written, or the run was killed) and was skipped.`,
        );
      }
      if (parsed.unknownKinds.length > 0) {
        notes.push(
          `Run ${id}: skipped records of unknown kind ${parsed.unknownKinds.join(', ')} (written by a newer FisherLab?).`,
        );
      }
    }
    if (meta === null) notes.push(`Run ${id}: no meta.json, so its status is unknown.`);
    if (config === null)
      notes.push(
        `Run ${id}: no config.json, so it is grouped alone and left out of the figures that need its settings.`,
      );

    const live = runStatus(dir, meta);
    const error = meta?.error;
    const statusDetail = live.detail
      ? live.detail
      : error
        ? [
            error.message,
            error.step !== undefined ? `at step ${error.step}` : '',
            error.quantity ? `in ${error.quantity}` : '',
          ]
            .filter(Boolean)
            .join(' ')
        : null;
    return {
      id,
      dir,
      name: meta?.name ?? view.name ?? id,
      status: live.status,
      statusDetail,
      meta,
      config,
      view,
      groupKey:
        groupBy === 'name'
          ? (meta?.name ?? view.name ?? id)
          : config === null
            ? JSON.stringify({ run: id })
            : groupKeyOf(config, ignore),
      records,
    };
  }
}

/** Builds the arquero tables from runs already in memory (used by readRuns, and by tests). */
export function buildTables(runs: readonly RunInfo[]): RunTables {
  const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  const fisher = columns([
    'runId',
    'group',
    'step',
    'epoch',
    'estimator',
    'traceF',
    'traceFStdErr',
    'examples',
  ]);
  const evals = columns(EVAL_COLUMNS);
  const train = columns(['runId', 'group', 'step', 'epoch', 'lr', 'loss', 'accuracy', 'penalty']);
  const curvature = columns(['runId', 'group', 'step', 'epoch', 'traceH', 'traceHStdErr', 'topEigenvalue']);
  for (const run of runs) {
    for (const r of run.records) {
      const base = [run.id, run.group, r.step, r.epoch];
      if (r.kind === 'fisher') {
        fisher.push(base, [r.estimator, num(r.traceF), num(r.traceFStdErr), num(r.examples)]);
      } else if (r.kind === 'eval') {
        evals.push(base, [
          num(r.trainAccuracy),
          num(r.trainCleanAccuracy),
          num(r.trainNoisyAccuracy),
          num(r.valAccuracy),
          num(r.testAccuracy),
          num(r.trainLoss),
          num(r.valLoss),
          num(r.testLoss),
        ]);
      } else if (r.kind === 'train') {
        train.push(base, [num(r.lr), num(r.loss), num(r.accuracy), num(r.penalty)]);
      } else if (r.kind === 'curvature') {
        curvature.push(base, [num(r.traceH), num(r.traceHStdErr), num(r.topEigenvalue)]);
      }
    }
  }
  const runRows = runs.map((run) => {
    const last = run.records.at(-1);
    return {
      runId: run.id,
      dir: run.dir,
      name: run.name,
      groupKey: run.groupKey,
      group: run.group,
      seed: run.view.seed,
      status: run.status,
      statusDetail: run.statusDetail,
      dataset: run.view.datasetName,
      arch: run.view.arch,
      optimizer: run.view.optimizerName,
      lr: run.view.lr,
      penaltyKind: run.view.penaltyKind,
      penaltyAlpha: run.view.penaltyAlpha,
      noiseFraction: run.view.noise?.fraction ?? null,
      epochs: run.view.epochs,
      lastEpoch: last?.epoch ?? null,
      lastStep: last?.step ?? null,
    };
  });
  return {
    runs: aq.from(runRows, RUN_COLUMNS),
    fisher: fisher.table(),
    evals: evals.table(),
    train: train.table(),
    curvature: curvature.table(),
  };
}

/** Column arrays filled a row at a time (values in column order), then one arquero table. */
function columns(names: readonly string[]) {
  const data = names.map(() => [] as unknown[]);
  return {
    push(...parts: unknown[][]) {
      let i = 0;
      for (const part of parts) for (const value of part) data[i++]!.push(value);
    },
    table: (): ColumnTable =>
      aq.table(Object.fromEntries(names.map((name, i) => [name, data[i]!])), [...names]),
  };
}

const RUN_COLUMNS = [
  'runId',
  'dir',
  'name',
  'groupKey',
  'group',
  'seed',
  'status',
  'statusDetail',
  'dataset',
  'arch',
  'optimizer',
  'lr',
  'penaltyKind',
  'penaltyAlpha',
  'noiseFraction',
  'epochs',
  'lastEpoch',
  'lastStep',
];
const EVAL_COLUMNS = [
  'runId',
  'group',
  'step',
  'epoch',
  'trainAccuracy',
  'trainCleanAccuracy',
  'trainNoisyAccuracy',
  'valAccuracy',
  'testAccuracy',
  'trainLoss',
  'valLoss',
  'testLoss',
];

async function readTextIfExists(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

async function readJsonFile<T>(file: string): Promise<T | null> {
  const text = await readTextIfExists(file);
  if (text === null) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new RunDataError(
      `${file}: expected valid JSON, found a parse error (${(error as Error).message}). Fix: repair or delete the file.`,
    );
  }
  if (!isObject(value)) {
    throw new RunDataError(
      `${file}: expected a JSON object, found ${JSON.stringify(value).slice(0, 60)}. Fix: repair or delete the file.`,
    );
  }
  return value as T;
}
