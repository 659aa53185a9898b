import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { RunMeta } from '@fisherlab/storage';
import { ensureDirectory, WriteError, writeJsonAtomic } from '@fisherlab/storage';
import {
  type CheckpointPayload,
  type CheckpointPointer,
  type LoadedRunCheckpoint,
  latestCheckpoint,
  readCheckpoint,
  writeCheckpoint,
} from './checkpoint.js';
import { TrainingError } from './errors.js';
import { MetricsLog, type MetricsMark } from './metrics-log.js';
import { type HeldLock, lockRun } from './run-lock.js';
import type { RunConfig } from './spec.js';

/** Files of an attempt; removed when a run that left no checkpoint is started over. */
export const ATTEMPT_FILES = ['meta.json', 'metrics.jsonl', 'config.json', 'checkpoint.json', 'checkpoints'];

/**
 * A run directory and the one writer of its files: config.json, meta.json, metrics.jsonl and the
 * checkpoints. Opening it takes the run's lock (run.lock; a second writer would interleave lines
 * and checkpoints), unless the caller already holds it (a sweep worker).
 */
export class RunDirectory {
  private meta: RunMeta | undefined;

  private constructor(
    readonly path: string,
    private readonly lock: HeldLock,
    private readonly ownsLock: boolean,
  ) {}

  static open(dir: string, lock?: HeldLock): RunDirectory {
    const runDir = path.resolve(dir);
    try {
      ensureDirectory(runDir);
    } catch (error) {
      if (error instanceof WriteError) throw new TrainingError(`${error.message}; choose another --output`);
      throw error;
    }
    return new RunDirectory(runDir, lock ?? lockRun(runDir), lock === undefined);
  }

  get id(): string {
    return path.basename(this.path);
  }

  /** Tells other processes the run is alive (the lock's heartbeat). */
  beat(): void {
    this.lock.beat();
  }

  release(): void {
    if (this.ownsLock) this.lock.release();
  }

  /** meta.json as the directory holds it now, if readable. */
  readMeta(): RunMeta | undefined {
    try {
      return JSON.parse(readFileSync(path.join(this.path, 'meta.json'), 'utf8')) as RunMeta;
    } catch {
      return undefined;
    }
  }

  /**
   * Makes the directory ready for an attempt and writes config.json. A fresh run refuses a
   * directory that holds a finished run or a checkpoint (its results would be overwritten; a
   * resume continues it), and starts over where an earlier attempt stopped before its first
   * checkpoint (a failed first start). A resume needs config.json, and rewrites it with the
   * changes the caller made to safe keys.
   */
  prepare(config: RunConfig, resume: boolean, log: (message: string) => void): void {
    const configFile = path.join(this.path, 'config.json');
    if (resume) {
      if (!existsSync(configFile)) {
        throw new TrainingError(
          `cannot resume: ${this.path} holds no run (no config.json); start it without --resume`,
        );
      }
      return;
    }
    if (ATTEMPT_FILES.some((f) => existsSync(path.join(this.path, f)))) {
      const previous = this.readMeta();
      if (previous?.status === 'completed' || previous?.status === 'diverged') {
        throw new TrainingError(
          `${this.path} holds a ${previous.status} run; choose another --output (a finished run is never overwritten)`,
        );
      }
      if (existsSync(path.join(this.path, 'checkpoint.json'))) {
        throw new TrainingError(
          `${this.path} already holds a run with a checkpoint; use --resume ${this.path} to continue it, or choose another --output (nothing was overwritten)`,
        );
      }
      log(
        `${this.path}: the previous attempt (${previous?.status ?? 'no status recorded'}) left no checkpoint; starting over`,
      );
      for (const f of ATTEMPT_FILES) rmSync(path.join(this.path, f), { recursive: true, force: true });
    }
    this.writeConfig(config);
  }

  writeConfig(config: RunConfig): void {
    writeJsonAtomic(path.join(this.path, 'config.json'), config);
  }

  /** Writes meta.json and remembers it, so later updates keep every field. */
  writeMeta(meta: RunMeta): void {
    this.meta = meta;
    writeJsonAtomic(path.join(this.path, 'meta.json'), meta);
  }

  /** Rewrites meta.json with some fields changed (after writeMeta). */
  updateMeta(changes: Partial<RunMeta>): void {
    if (!this.meta) throw new Error('RunDirectory.updateMeta before writeMeta');
    this.writeMeta({ ...this.meta, ...changes });
  }

  createMetrics(): MetricsLog {
    return MetricsLog.create(path.join(this.path, 'metrics.jsonl'));
  }

  resumeMetrics(mark: MetricsMark): MetricsLog {
    return MetricsLog.resume(path.join(this.path, 'metrics.jsonl'), mark);
  }

  latestCheckpoint(): CheckpointPointer | undefined {
    return latestCheckpoint(this.path);
  }

  readCheckpoint(pointer: CheckpointPointer): Promise<LoadedRunCheckpoint> {
    return readCheckpoint(this.path, pointer);
  }

  writeCheckpoint(payload: CheckpointPayload): Promise<CheckpointPointer> {
    return writeCheckpoint(this.path, payload);
  }
}
