/**
 * SIGTERM and SIGINT ask a run to stop: `signal` aborts, train() checkpoints after the step in
 * progress and returns 'interrupted', which takes one step plus a checkpoint. A second signal means
 * "now": the process exits 130 at once, and a resume repairs what the cut left (the previous
 * checkpoint stays valid and metrics.jsonl is cut back to it). A second signal within `sameStopMs`
 * of the first counts as the same request: one stop often arrives twice (a terminal's Ctrl-C
 * reaches the whole process group, a batch script's trap forwards what Slurm also sent), and a
 * person pressing again is slower.
 *
 *   const stop = stopOnSignals();
 *   try { await train(spec, { signal: stop.signal }); } finally { stop.dispose(); }
 */
export interface StopSignals {
  /** Aborted on the first signal, with the signal's name as its reason. */
  readonly signal: AbortSignal;
  /** The first signal received, if any. */
  readonly requested: NodeJS.Signals | undefined;
  /** Removes the handlers (the process's default handling returns). */
  dispose(): void;
}

export interface StopSignalOptions {
  say?: (message: string) => void;
  exit?: (code: number) => void;
  /** A second signal this soon after the first is the same stop (default 1000 ms). */
  sameStopMs?: number;
}

export function stopOnSignals(options: StopSignalOptions = {}): StopSignals {
  const say = options.say ?? ((m: string) => console.error(m));
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const sameStopMs = options.sameStopMs ?? 1000;
  const controller = new AbortController();
  let requested: NodeJS.Signals | undefined;
  let firstAt = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (requested) {
      if (Date.now() - firstAt < sameStopMs) return; // the same stop, delivered twice
      say(
        `${signal} again: exiting now without a checkpoint (the last one is kept; a resume continues from it)`,
      );
      exit(130);
      return;
    }
    requested = signal;
    firstAt = Date.now();
    say(`${signal}: checkpointing after this step, then exiting (send it again to exit at once)`);
    controller.abort(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    get requested() {
      return requested;
    },
    dispose() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
