import type { PoolEvent } from '@fisherlab/sweeps';
import { formatDuration } from '@fisherlab/training';

/**
 * Runs done and the time left, for the demo's progress line. Each run weighs its relative cost
 * (runCost: epochs × penalized-step cost × examples); a run in flight counts by its fraction of
 * steps done. The time left is the elapsed time scaled by the cost left over the cost done in this
 * invocation (runs skipped because an earlier invocation finished them cost nothing now).
 */
export function createDemoEta(
  costs: ReadonlyMap<number, number>,
  now: () => number = () => performance.now(),
): { onEvent: (event: PoolEvent) => void; status: () => string } {
  const started = now();
  const fraction = new Map<number, number>();
  const skipped = new Set<number>();
  let finished = 0;
  const total = [...costs.values()].reduce((a, b) => a + b, 0);
  return {
    onEvent(event) {
      if (event.kind === 'progress' && event.totalSteps > 0) {
        fraction.set(event.index, event.step / event.totalSteps);
      } else if (event.kind === 'end') {
        finished += 1;
        if (event.result.status === 'skipped') skipped.add(event.result.index);
        else fraction.set(event.result.index, 1);
      }
    },
    status() {
      const cost = (i: number) => costs.get(i) ?? 0;
      const done = [...fraction].reduce((sum, [i, f]) => sum + f * cost(i), 0);
      const left = total - done - [...skipped].reduce((sum, i) => sum + cost(i), 0);
      const runs = `${finished} of ${costs.size} runs done`;
      // Under 2% done the rate says little (start-up, data loading).
      if (done < 0.02 * total) return `${runs}, estimating the time left`;
      const seconds = ((now() - started) / 1000) * (left / done);
      return `${runs}, about ${formatDuration(seconds)} left`;
    },
  };
}
