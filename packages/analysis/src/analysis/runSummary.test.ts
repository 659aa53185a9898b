import { describe, expect, it } from 'vitest';
import { summaryRow } from '../fixtures/summaryRows.js';
import { summarizeGroups } from './runSummary.js';

describe('group summaries', () => {
  it('mean and sample sd across finished seeds; running and failed runs are counted but not averaged', () => {
    const rows = [
      summaryRow({ runId: 's1', group: 'small lr', finalTestAccuracy: 0.7, maxTraceF: 900, gap: 0.2 }),
      summaryRow({ runId: 's2', group: 'small lr', finalTestAccuracy: 0.74, maxTraceF: 1100, gap: 0.16 }),
      summaryRow({ runId: 's3', group: 'small lr', finalTestAccuracy: 0.72, maxTraceF: 1000, gap: 0.18 }),
      summaryRow({ runId: 's4', group: 'small lr', finalTestAccuracy: 0.1, status: 'failed' }),
      summaryRow({ runId: 't1', group: 'tuned lr', finalTestAccuracy: 0.85, status: 'running' }),
    ];
    const [small, tuned] = summarizeGroups(rows);
    expect(small).toMatchObject({ group: 'small lr', runs: 4, finished: 3 });
    expect(small!.finalTestAccuracy!.mean).toBeCloseTo(0.72, 12);
    // deviations ±0.02, 0 → sd = √(0.0008/2) = 0.02
    expect(small!.finalTestAccuracy!.sd).toBeCloseTo(0.02, 12);
    expect(small!.maxTraceF!.mean).toBeCloseTo(1000, 9);
    expect(small!.maxTraceF!.sd).toBeCloseTo(100, 9);
    expect(small!.gap!.mean).toBeCloseTo(0.18, 12);
    expect(small!.earlyMaxTraceF).toBeNull();
    expect(tuned).toMatchObject({ group: 'tuned lr', runs: 1, finished: 0, finalTestAccuracy: null });
  });
});
