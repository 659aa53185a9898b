import path from 'node:path';

/**
 * The files of a run directory, named once. @fisherlab/training writes them (its RunDirectory is
 * their one writer); readers (reports, sweep status) read them through readRunState and RunMeta.
 *
 *   config.json      the resolved run config (its SHA-256 is recorded in meta.json)
 *   meta.json        RunMeta: status, step, backend, thread count, resumes, error
 *   metrics.jsonl    one MetricRecord per line, append-only
 *   checkpoint.json  names the latest complete checkpoint (a cache: the checkpoints are the truth)
 *   checkpoints/     step-<N>/ directories, each with a manifest.json written last
 *   run.lock         the writer's lock (host, pid, heartbeat)
 */
export const RUN_FILES = {
  config: 'config.json',
  meta: 'meta.json',
  metrics: 'metrics.jsonl',
  checkpointPointer: 'checkpoint.json',
  checkpoints: 'checkpoints',
  lock: 'run.lock',
} as const;

export type RunFileName = keyof typeof RUN_FILES;

/** The path of one of a run directory's files. */
export const runFile = (runDir: string, name: RunFileName): string => path.join(runDir, RUN_FILES[name]);

/** The files an attempt writes (everything but the lock): what starting a run over removes. */
export const ATTEMPT_FILES: readonly string[] = [
  RUN_FILES.meta,
  RUN_FILES.metrics,
  RUN_FILES.config,
  RUN_FILES.checkpointPointer,
  RUN_FILES.checkpoints,
];

/** The files whose presence makes a directory a run directory (for readers that search a tree). */
export const RUN_MARKERS: readonly string[] = [RUN_FILES.meta, RUN_FILES.metrics];
