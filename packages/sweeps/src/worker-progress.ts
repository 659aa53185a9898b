import type { RunProgress } from './runner.js';

/**
 * How a `sweep run` worker tells its parent `sweep local` about progress: with PROGRESS_ENV set to
 * 'jsonl', it prints lines of PROGRESS_PREFIX followed by one JSON object; its other output is log.
 */
export const PROGRESS_PREFIX = '@@fisherlab-progress ';
export const PROGRESS_ENV = 'FISHERLAB_SWEEP_PROGRESS';

export function jsonProgressSink(
  write: (line: string) => void = (l) => process.stdout.write(l),
): RunProgress {
  let last = 0;
  return {
    update({ step, totalSteps, epoch, figures }) {
      const now = Date.now();
      if (now - last < 500 && step < totalSteps) return;
      last = now;
      write(`${PROGRESS_PREFIX}${JSON.stringify({ step, totalSteps, epoch, ...figures })}\n`);
    },
    log(message) {
      write(`${message}\n`);
    },
  };
}
