import os from 'node:os';
import path from 'node:path';
import {
  consoleProgress,
  type HeldLock,
  type ProgressDisplay,
  ResumeRefusedError,
  type RunConfig,
  RunDirectoryError,
  RunInUseError,
  stopOnSignals,
  type TrainOutcome,
  train,
} from '@fisherlab/training';
import { EXIT, UserError } from '../errors.js';
import { CLI_VERSION } from '../version.js';

export interface TrainRunOptions {
  /** Continue the run in config.output from its latest checkpoint. */
  resume?: boolean;
  /** Replace an earlier attempt's records (--overwrite). */
  overwrite?: boolean;
  progress?: ProgressDisplay;
  /** Stop after this many steps in this process (tests), checkpointing as on a signal. */
  stopAfterSteps?: number;
  /** Install SIGINT/SIGTERM handlers that checkpoint and stop (default true). */
  handleSignals?: boolean;
  /** Called after every completed step (tests sample live tensors with it). */
  onStep?: (step: number) => void;
  /** The run's lock, when the caller holds it (sweep workers); otherwise the run takes it. */
  lock?: HeldLock;
  /** A stop requested before or while the run starts (signal handlers installed early); stops it as a signal does. */
  signal?: AbortSignal;
}

export interface TrainRunOutcome extends TrainOutcome {
  exitCode: number;
}

/**
 * `fisherlab train`'s run: @fisherlab/training's train() with the command's display (a progress
 * line and log lines on stderr), SIGINT/SIGTERM as its abort signal, the run's exit code, and the
 * library's run-directory errors said in the command's flags.
 */
export async function trainRun(config: RunConfig, options: TrainRunOptions = {}): Promise<TrainRunOutcome> {
  const progress =
    options.progress ?? consoleProgress(config.name || path.basename(path.resolve(config.output)));
  const stop = new AbortController();
  const signals = options.handleSignals !== false ? stopOnSignals({ say: progress.log }) : undefined;
  const stops = [stop.signal, signals?.signal, options.signal].filter((s) => s !== undefined);
  try {
    const outcome = await train(config, {
      ...(options.resume !== undefined ? { resume: options.resume } : {}),
      ...(options.overwrite !== undefined ? { overwrite: options.overwrite } : {}),
      ...(options.lock ? { lock: options.lock } : {}),
      signal: AbortSignal.any(stops),
      log: progress.log,
      onProgress: (p) => {
        progress.update(p);
        options.onStep?.(p.step);
        if (options.stopAfterSteps !== undefined && p.step >= options.stopAfterSteps) stop.abort();
      },
      versions: { fisherlab: CLI_VERSION },
    });
    const exitCode =
      outcome.status === 'completed'
        ? EXIT.ok
        : outcome.status === 'diverged'
          ? EXIT.diverged
          : EXIT.interrupted;
    return { ...outcome, exitCode };
  } catch (error) {
    throw inCommandTerms(error);
  } finally {
    signals?.dispose();
    progress.done();
  }
}

/** The library's run-directory errors with the fix in `fisherlab train`'s flags. */
export function inCommandTerms(error: unknown): unknown {
  if (error instanceof ResumeRefusedError) {
    const changed = error.changes
      .map((c) => `${c.key} ${JSON.stringify(c.from)} → ${JSON.stringify(c.to)}`)
      .join(', ');
    return new UserError(
      `cannot resume ${error.runDir} with changed settings: ${changed}. A run continues with the config it started with (only ${error.allowed.join(', ')} may change); to train with other settings, start a new run with another --output`,
    );
  }
  if (error instanceof RunInUseError) {
    const { holder, runDir } = error;
    const local = holder.host === os.hostname() && !error.inThisProcess;
    return new UserError(
      `${runDir} is in use by another process: ${holder.purpose}, ${error.reason}, since ${holder.startedAt}. ` +
        `Let it finish${local ? ` (or stop it: kill ${holder.pid})` : ''}, or use another --output. The lock is ${error.lockFile}.`,
    );
  }
  if (!(error instanceof RunDirectoryError)) return error;
  const dir = error.runDir;
  switch (error.problem) {
    case 'not-a-run':
      return new UserError(`cannot resume: ${dir} holds no run (no config.json); start it without --resume`);
    case 'finished':
      return new UserError(
        `${dir} holds a ${error.details.found} run; choose another --output (a finished run is never overwritten unless you pass --overwrite)`,
      );
    case 'holds-records':
      return new UserError(
        `${dir} already holds a run with records or a checkpoint; use --resume ${dir} to continue it, --overwrite to replace it, or choose another --output (nothing was overwritten)`,
      );
    case 'no-checkpoint':
      return new UserError(
        `cannot resume ${dir}: metrics.jsonl holds records but there is no checkpoint to continue them from (${error.details.found}; expected ${error.details.expected}); restore the checkpoint, or pass --overwrite with --resume to start over at step 0 (its records are replaced)`,
      );
    case 'config-edited':
      return new UserError(
        `${error.details.file} was changed after the run wrote it; restore it (to change --epochs, pass it with --resume; any other change needs a new run with another --output)`,
      );
    case 'beyond-epochs':
      return new UserError(error.message.replace(/epochs: (\d+) asks for/, '--epochs $1 asks for'));
    case 'unwritable':
      return new UserError(`${error.details.found}; choose another --output`);
    default:
      return new UserError(error.message);
  }
}
