/**
 * SIGTERM and SIGINT ask a run to stop: the trainer checks `requested` between steps, checkpoints
 * and exits 130, which takes one step plus a checkpoint. A second signal means "now": the process
 * exits 130 at once, and a resume repairs what the cut left (the previous checkpoint stays valid
 * and metrics.jsonl is cut back to it). A second signal within `sameStopMs` of the first counts as
 * the same request: one stop often arrives twice (a terminal's Ctrl-C reaches the whole process
 * group, a batch script's trap forwards what Slurm also sent), and a person pressing again is slower.
 */
export interface StopSignals {
  /** The first signal received, if any. */
  readonly requested: NodeJS.Signals | undefined;
  dispose(): void;
}

export interface StopSignalOptions {
  say?: (message: string) => void;
  /** Called once, on the first signal (e.g. to abort an AbortController the run watches). */
  onStop?: (signal: NodeJS.Signals) => void;
  exit?: (code: number) => void;
  /** A second signal this soon after the first is the same stop (default 1000 ms). */
  sameStopMs?: number;
}

export function watchStopSignals(options: StopSignalOptions = {}): StopSignals {
  const say = options.say ?? ((m: string) => console.error(m));
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const sameStopMs = options.sameStopMs ?? 1000;
  let requested: NodeJS.Signals | undefined;
  let firstAt = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (requested) {
      if (Date.now() - firstAt < sameStopMs) return; // the same stop, delivered twice
      say(
        `${signal} again: exiting now without a checkpoint (the last one is kept; --resume continues from it)`,
      );
      exit(130);
      return;
    }
    requested = signal;
    firstAt = Date.now();
    say(`${signal}: checkpointing after this step, then exiting (send it again to exit at once)`);
    options.onStop?.(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    get requested() {
      return requested;
    },
    dispose() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/**
 * Installed by bin.ts before anything slow is loaded: a SIGINT/SIGTERM that no command handles
 * (during start-up, before a run began or after it ended) ends the process at once with 130. Nothing
 * is being written then (or only atomically), so the run directory is as resumable as it was, and
 * the engines treat 130 as "interrupted": Slurm's script requeues, Kubernetes does not count a retry.
 * While a command handles the signal (a run checkpointing, a pool stopping its workers) this one
 * stands aside.
 */
export function exitOnUnhandledStop(exit: (code: number) => void = (code) => process.exit(code)): void {
  const onSignal = (signal: NodeJS.Signals) => {
    if (process.listenerCount(signal) > 1) return; // a command handles it
    console.error(`fisherlab: ${signal} while no run was in progress: exiting (130)`);
    exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}
