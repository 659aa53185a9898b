import type { PoolRunResult } from '@fisherlab/sweeps';
import { describe, expect, it } from 'vitest';
import { createDemoEta } from './progress.js';

const end = (index: number, status: PoolRunResult['status']) =>
  ({ kind: 'end', result: { index, status } as PoolRunResult }) as const;

describe("the demo's time left", () => {
  it('scales the elapsed time by the cost left over the cost done, runs in flight by their fraction', () => {
    let clock = 0;
    // Costs 1, 3 and 6: 10 units in all.
    const eta = createDemoEta(
      new Map([
        [0, 1],
        [1, 3],
        [2, 6],
      ]),
      () => clock,
    );
    expect(eta.status()).toBe('0 of 3 runs done, estimating the time left');
    clock = 60_000;
    eta.onEvent(end(0, 'completed'));
    eta.onEvent({ kind: 'progress', index: 1, step: 1, totalSteps: 3, figures: {} });
    // Done: 1 + 1 = 2 units in 60 s; 8 units left → 240 s.
    expect(eta.status()).toBe('1 of 3 runs done, about 4m00s left');
  });

  it('does not count runs an earlier invocation finished as work done now', () => {
    let clock = 0;
    const eta = createDemoEta(
      new Map([
        [0, 5],
        [1, 5],
      ]),
      () => clock,
    );
    eta.onEvent(end(0, 'skipped'));
    clock = 30_000;
    eta.onEvent({ kind: 'progress', index: 1, step: 1, totalSteps: 2, figures: {} });
    expect(eta.status()).toBe('1 of 2 runs done, about 30s left');
  });
});
