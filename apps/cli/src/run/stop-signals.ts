/**
 * SIGTERM and SIGINT ask a run to stop: the trainer checks `requested` between steps, checkpoints
 * and exits 130, which takes one step plus a checkpoint. A second signal means "now": the process
 * exits 130 at once, and a resume repairs what the cut left (the previous checkpoint stays valid
 * and metrics.jsonl is cut back to it).
 */
export interface StopSignals {
  /** The first signal received, if any. */
  readonly requested: NodeJS.Signals | undefined;
  dispose(): void;
}

export function watchStopSignals(
  say: (message: string) => void = (m) => console.error(m),
  exit: (code: number) => void = (code) => process.exit(code),
): StopSignals {
  let requested: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (requested) {
      say(
        `${signal} again: exiting now without a checkpoint (the last one is kept; --resume continues from it)`,
      );
      exit(130);
      return;
    }
    requested = signal;
    say(`${signal}: checkpointing after this step, then exiting (send it again to exit at once)`);
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
 * Lets the event loop run pending callbacks (signal handlers, timers such as the lock's heartbeat)
 * between steps: a training step is synchronous, so without this they wait for the next I/O.
 */
export const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
