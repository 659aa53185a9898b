import path from 'node:path';
import {
  type ConfigChange,
  type HeldLock,
  type RunConfig,
  type TrainOutcome,
  train,
} from '@fisherlab/training';
import { EXIT } from '../errors.js';
import { CLI_VERSION } from '../version.js';
import { createProgress, type ProgressSink } from './progress.js';
import { watchStopSignals } from './stop-signals.js';

export interface TrainRunOptions {
  /** Continue the run in config.output from its latest checkpoint. */
  resume?: boolean;
  progress?: ProgressSink;
  /** Stop after this many steps in this process (tests), checkpointing as on a signal. */
  stopAfterSteps?: number;
  /** Install SIGINT/SIGTERM handlers that checkpoint and stop (default true). */
  handleSignals?: boolean;
  /** Called after every completed step (tests sample live tensors with it). */
  onStep?: (step: number) => void;
  /** The run's lock, when the caller holds it (sweep workers); otherwise the run takes it. */
  lock?: HeldLock;
  /** Config keys a resume changed (only those safe to change), recorded in meta.json. */
  configChanges?: ConfigChange[];
}

export interface TrainRunOutcome extends TrainOutcome {
  exitCode: number;
}

/**
 * `fisherlab train`'s run: @fisherlab/training's train() with the command's display (a progress
 * line and log lines on stderr), SIGINT/SIGTERM as its abort signal, and the run's exit code.
 */
export async function trainRun(config: RunConfig, options: TrainRunOptions = {}): Promise<TrainRunOutcome> {
  const progress =
    options.progress ?? createProgress(config.name || path.basename(path.resolve(config.output)));
  const stop = new AbortController();
  const signals =
    options.handleSignals !== false
      ? watchStopSignals({ say: (m) => progress.log(m), onStop: (signal) => stop.abort(signal) })
      : undefined;
  try {
    const outcome = await train(config, {
      ...(options.resume !== undefined ? { resume: options.resume } : {}),
      ...(options.stopAfterSteps !== undefined ? { stopAfterSteps: options.stopAfterSteps } : {}),
      ...(options.lock ? { lock: options.lock } : {}),
      ...(options.configChanges ? { configChanges: options.configChanges } : {}),
      signal: stop.signal,
      log: (message) => progress.log(message),
      onProgress: ({ step, totalSteps, epoch, figures }) => {
        progress.update(step, totalSteps, epoch, figures);
        options.onStep?.(step);
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
  } finally {
    signals?.dispose();
    progress.done();
  }
}
