import { existsSync, readFileSync, rmdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import {
  ATTEMPT_FILES,
  type ConfigChange,
  ensureDirectory,
  type RunMeta,
  type RunResume,
  readRunMeta,
  readRunState,
  runFile,
  runLockFile,
  sha256Hex,
  WriteError,
  writeFileAtomic,
  writeJsonAtomic,
} from '@fisherlab/storage';
import {
  type CheckpointPayload,
  type CheckpointPhase,
  type CheckpointPointer,
  type FoundCheckpoint,
  type LoadedRunCheckpoint,
  latestCheckpoint,
  missingCheckpointReason,
  readCheckpoint,
  type TrainerState,
  writeCheckpoint,
} from './checkpoint.js';
import { ResumeRefusedError, RunDirectoryError, TrainingError } from './errors.js';
import { MetricsLog } from './metrics-log.js';
import { configDifferences, RESUME_SAFE_KEYS, unsafeChanges } from './resume-policy.js';
import { type HeldLock, lockRun } from './run-lock.js';
import { parseRunConfig, type RunConfig } from './spec.js';

/** How a train() call starts in its run directory, decided before anything is written. */
export interface StartPlan {
  config: RunConfig;
  resume: boolean;
  /** meta.json as the directory held it (a resume). */
  previous?: RunMeta;
  /** The checkpoint the run continues from (a resume that has one). */
  checkpoint?: FoundCheckpoint;
  /** Config keys the resume changes (all safe, or the run starts over at step 0). */
  changes: ConfigChange[];
  /** An earlier attempt's files that begin() removes first (a failed start, or `overwrite`). */
  clearFirst: boolean;
}

/** What begin() records in meta.json about how the run computes. */
export interface RunSettings {
  backend: string;
  versions: Record<string, string>;
  gitCommit?: string;
  nativeThreads?: number;
  memoryCeiling?: RunMeta['memoryCeiling'];
}

const hasBytes = (file: string): boolean => {
  try {
    return statSync(file).size > 0;
  } catch {
    return false;
  }
};

/**
 * A run directory and the one writer of its files (config.json, meta.json, metrics.jsonl, the
 * checkpoints; names in @fisherlab/storage's RUN_FILES). Opening it takes the run's lock (a second
 * writer would interleave lines and checkpoints), unless the caller already holds it (a sweep
 * worker). plan() reads and decides, writing nothing; begin() writes the start of an attempt;
 * checkpoint(), finish() and recordStartFailure() the rest.
 */
export class RunDirectory {
  private meta: RunMeta | undefined;

  private constructor(
    readonly path: string,
    private readonly lock: HeldLock | undefined,
    private readonly ownsLock: boolean,
    private readonly created: boolean,
  ) {}

  static open(dir: string, lock?: HeldLock): RunDirectory {
    const runDir = path.resolve(dir);
    const created = !existsSync(runDir);
    try {
      ensureDirectory(runDir);
    } catch (error) {
      if (error instanceof WriteError)
        throw new RunDirectoryError(
          runDir,
          'unwritable',
          `${error.message}; train into another output directory`,
          {
            file: error.file,
            found: error.code,
          },
        );
      throw error;
    }
    if (lock) checkLockIsFor(runDir, lock);
    return new RunDirectory(runDir, lock ?? lockRun(runDir), lock === undefined, created);
  }

  /** A view for plan() alone (checkRunDirectory): no lock, so it must never write. */
  static unlocked(runDir: string): RunDirectory {
    return new RunDirectory(runDir, undefined, false, false);
  }

  get id(): string {
    return path.basename(this.path);
  }

  /** Tells other processes the run is alive (the lock's heartbeat). */
  beat(): void {
    this.lock?.beat();
  }

  /** Releases the lock (if this directory took it); a directory this call created and left empty is removed. */
  release(): void {
    if (this.ownsLock) this.lock?.release();
    if (this.created) {
      try {
        rmdirSync(this.path);
      } catch {
        // not empty: the run wrote something
      }
    }
  }

  /**
   * Decides how a train() call starts here, and refuses what would lose or garble a run, writing
   * nothing. A fresh run refuses a directory that holds a finished run, records or checkpoints
   * (unless `overwrite`); an earlier attempt that left only config.json and meta.json (a failed
   * start) is cleared. A resume continues from the newest checkpoint that verifies, with the spec
   * changed only in RESUME_SAFE_KEYS and config.json as the trainer wrote it; a resume without a
   * checkpoint starts over at step 0 (refused over existing records unless `overwrite`).
   */
  plan(config: RunConfig, resume: boolean, overwrite: boolean, log: (message: string) => void): StartPlan {
    const state = readRunState(this.path);
    if (state.damaged && !overwrite) {
      throw new RunDirectoryError(this.path, 'damaged', `${state.detail}`, {
        file: state.damaged.file,
        found: state.damaged.reason,
      });
    }
    return resume ? this.planResume(config, overwrite, log) : this.planFresh(config, overwrite, log);
  }

  private planFresh(config: RunConfig, overwrite: boolean, log: (message: string) => void): StartPlan {
    const plan: StartPlan = { config, resume: false, changes: [], clearFirst: false };
    if (!ATTEMPT_FILES.some((f) => existsSync(path.join(this.path, f)))) return plan;
    const previous = readRunMeta(this.path);
    const records = [
      runFile(this.path, 'metrics'),
      runFile(this.path, 'checkpointPointer'),
      runFile(this.path, 'checkpoints'),
    ];
    const held = records.filter((f) => (f.endsWith('.jsonl') ? hasBytes(f) : existsSync(f)));
    if (!overwrite && (previous?.status === 'completed' || previous?.status === 'diverged')) {
      throw new RunDirectoryError(
        this.path,
        'finished',
        `${this.path} holds a ${previous.status} run; train into another output directory (a finished run is only replaced with overwrite: true)`,
        { file: runFile(this.path, 'meta'), found: previous.status },
      );
    }
    if (!overwrite && held.length > 0) {
      throw new RunDirectoryError(
        this.path,
        'holds-records',
        `${this.path} holds an earlier attempt's ${held.map((f) => path.basename(f)).join(', ')}; resume it (resume: true), replace it (overwrite: true), or train into another output directory (nothing was changed)`,
        { file: held[0]! },
      );
    }
    log(
      overwrite && held.length > 0
        ? `${this.path}: replacing the earlier attempt's records (overwrite)`
        : `${this.path}: the previous attempt (${previous?.status ?? 'no status recorded'}) left no records; starting over`,
    );
    return { ...plan, clearFirst: true };
  }

  private planResume(config: RunConfig, overwrite: boolean, log: (message: string) => void): StartPlan {
    const configFile = runFile(this.path, 'config');
    if (!existsSync(configFile)) {
      throw new RunDirectoryError(
        this.path,
        'not-a-run',
        `cannot resume: ${this.path} holds no run (no config.json); train it without resume`,
        { file: configFile, found: 'no such file' },
      );
    }
    const previous = readRunMeta(this.path);
    const text = readFileSync(configFile);
    if (previous?.configSha256 !== undefined && sha256Hex(text) !== previous.configSha256) {
      throw new RunDirectoryError(
        this.path,
        'config-edited',
        `${configFile} was changed after the trainer wrote it (its SHA-256 differs from meta.json's configSha256); ` +
          'restore it: a resume takes its changes (only to keys that may change) from the spec, and records them',
        { file: configFile, expected: previous.configSha256, found: sha256Hex(text) },
      );
    }
    const stored = parseRunConfig(
      { ...JSON.parse(text.toString('utf8')), output: config.output },
      configFile,
    );
    const changes = configDifferences(stored, config);
    const checkpoint = latestCheckpoint(this.path);
    if (checkpoint) {
      if (checkpoint.recovered) log(checkpoint.recovered);
      const unsafe = unsafeChanges(changes);
      if (unsafe.length > 0) throw new ResumeRefusedError(this.path, unsafe, RESUME_SAFE_KEYS);
      for (const c of changes)
        log(
          `resuming with ${c.key} ${JSON.stringify(c.from)} → ${JSON.stringify(c.to)} (recorded in meta.json)`,
        );
      return {
        config,
        resume: true,
        ...(previous ? { previous } : {}),
        checkpoint,
        changes,
        clearFirst: false,
      };
    }
    const metrics = runFile(this.path, 'metrics');
    if (hasBytes(metrics) && !overwrite) {
      throw new RunDirectoryError(
        this.path,
        'no-checkpoint',
        `cannot resume ${this.path}: ${metrics} holds records but there is no checkpoint to continue them from (${missingCheckpointReason(this.path)}); ` +
          'restore the checkpoint, or start the run over at step 0 with overwrite: true (its records are replaced)',
        { file: runFile(this.path, 'checkpointPointer'), found: missingCheckpointReason(this.path) },
      );
    }
    log(`${this.path} has no checkpoint yet (the first comes at the end of epoch 1): starting at step 0`);
    return { config, resume: true, ...(previous ? { previous } : {}), changes, clearFirst: overwrite };
  }

  readCheckpoint(pointer: CheckpointPointer): Promise<LoadedRunCheckpoint> {
    return readCheckpoint(this.path, pointer);
  }

  /**
   * Writes the start of an attempt: clears an earlier attempt where the plan says so, opens
   * metrics.jsonl (a resume checks it against the checkpoint and cuts it back to it), writes
   * config.json and meta.json (status running, the settings that change numbers, config.json's
   * SHA-256, and for a resume the keys it changed). Returns the metrics log.
   */
  begin(plan: StartPlan, settings: RunSettings, state: TrainerState): MetricsLog {
    if (plan.clearFirst) this.clearAttempt();
    const metricsFile = runFile(this.path, 'metrics');
    const metrics = plan.checkpoint
      ? MetricsLog.resume(metricsFile, {
          bytes: state.metricsBytes,
          step: state.step,
          ...(state.metricsSha256 ? { sha256: state.metricsSha256 } : {}),
        })
      : MetricsLog.create(metricsFile);
    const configSha256 = this.writeConfig(plan.config);
    const now = new Date().toISOString();
    const previous = plan.previous;
    const resumes: RunResume[] = plan.resume
      ? [
          ...(previous?.resumes ?? []),
          {
            at: now,
            fromStep: state.step,
            ...(plan.checkpoint ? { checkpoint: plan.checkpoint.dir } : {}),
            changes: plan.changes,
          },
        ]
      : [];
    this.writeMeta({
      id: this.id,
      name: plan.config.name || this.id,
      status: 'running',
      startedAt: plan.checkpoint && previous?.startedAt ? previous.startedAt : now,
      ...settings,
      step: state.step,
      configSha256,
      ...(resumes.length > 0 ? { resumes } : {}),
    });
    return metrics;
  }

  /**
   * Records a start that failed before begin() (data or model could not be built): a fresh run
   * gets its config.json and a meta.json that says failed and why (a directory without meta.json
   * reads as never started); a resume keeps its meta.json but for the status and the error.
   */
  recordStartFailure(plan: StartPlan, settings: RunSettings, message: string): void {
    const at = new Date().toISOString();
    const error = { message, step: plan.checkpoint?.step ?? 0 };
    if (plan.resume && plan.previous) {
      this.writeMeta({ ...plan.previous, status: 'failed', endedAt: at, error });
      return;
    }
    if (plan.clearFirst) this.clearAttempt();
    const configSha256 = this.writeConfig(plan.config);
    this.writeMeta({
      id: this.id,
      name: plan.config.name || this.id,
      status: 'failed',
      startedAt: at,
      endedAt: at,
      ...settings,
      configSha256,
      error,
    });
  }

  /** Writes a checkpoint (beside the previous one, which is removed after the pointer moves). */
  checkpoint(
    payload: CheckpointPayload,
    onPhase?: (phase: CheckpointPhase) => void,
  ): Promise<CheckpointPointer> {
    return writeCheckpoint(this.path, payload, onPhase);
  }

  /** Rewrites meta.json with how the attempt ended. */
  finish(changes: Pick<RunMeta, 'status' | 'step' | 'error'>): void {
    if (!this.meta) throw new Error('RunDirectory.finish before begin');
    this.writeMeta({ ...this.meta, ...changes, endedAt: new Date().toISOString() });
  }

  private writeConfig(config: RunConfig): string {
    const text = `${JSON.stringify(config, null, 2)}\n`;
    writeFileAtomic(runFile(this.path, 'config'), text);
    return sha256Hex(text);
  }

  private writeMeta(meta: RunMeta): void {
    this.meta = meta;
    writeJsonAtomic(runFile(this.path, 'meta'), meta);
  }

  private clearAttempt(): void {
    for (const f of ATTEMPT_FILES) rmSync(path.join(this.path, f), { recursive: true, force: true });
  }
}

function checkLockIsFor(runDir: string, lock: HeldLock): void {
  if (path.resolve(lock.file) !== runLockFile(runDir))
    throw new TrainingError(
      `the lock passed for ${runDir} is ${lock.file}, not ${runLockFile(runDir)} (take it with lockRun(runDir))`,
    );
}

/**
 * Removes the files of an attempt that died before its first checkpoint, so the run can start
 * over (what a sweep worker does before it restarts such a run). The caller holds the run's lock
 * (`lockRun(runDir)`). A run with a checkpoint that verifies is refused: resume it instead.
 */
/**
 * Checks, without writing anything or taking the lock, that train(spec, { resume, overwrite })
 * could start in spec.output: throws the RunDirectoryError or ResumeRefusedError train() would.
 * A dry run's check; train() itself checks again under the lock.
 */
export function checkRunDirectory(
  config: RunConfig,
  options: { resume?: boolean; overwrite?: boolean } = {},
): void {
  const runDir = path.resolve(config.output);
  if (!existsSync(runDir)) {
    if (options.resume)
      throw new RunDirectoryError(
        runDir,
        'not-a-run',
        `cannot resume: ${runDir} does not exist; train it without resume`,
      );
    return;
  }
  RunDirectory.unlocked(runDir).plan(config, options.resume === true, options.overwrite === true, () => {});
}

export function clearFailedAttempt(runDir: string, lock: HeldLock): void {
  const dir = path.resolve(runDir);
  checkLockIsFor(dir, lock);
  const checkpoint = latestCheckpoint(dir);
  if (checkpoint) {
    throw new RunDirectoryError(
      dir,
      'holds-records',
      `${dir} holds a checkpoint (${checkpoint.dir}); resume it (resume: true) instead of clearing it`,
      { file: path.join(dir, checkpoint.dir) },
    );
  }
  for (const f of ATTEMPT_FILES) rmSync(path.join(dir, f), { recursive: true, force: true });
}

/**
 * Records that a run failed where train() could not (it threw before writing meta.json, e.g. on a
 * bad spec or a backend that would not start): meta.json says failed, with `message`. A meta.json
 * that already says failed is left as it is (train() recorded the failure itself).
 */
export function recordRunFailure(
  runDir: string,
  failure: { id: string; name: string; message: string },
): void {
  const dir = path.resolve(runDir);
  const meta = readRunMeta(dir);
  if (meta?.status === 'failed') return;
  const now = new Date().toISOString();
  ensureDirectory(dir);
  writeJsonAtomic(runFile(dir, 'meta'), {
    id: failure.id,
    name: failure.name,
    backend: 'unknown',
    versions: {},
    startedAt: now,
    ...meta,
    status: 'failed',
    endedAt: now,
    error: { message: failure.message, ...(meta?.step !== undefined ? { step: meta.step } : {}) },
  } satisfies RunMeta);
}
