import { describe, expect, it } from 'vitest';
import { summaryRow } from '../fixtures/summaryRows.js';
import { earlyFisherVsAccuracy } from './earlyFisher.js';

describe('early Tr(F) vs final test accuracy', () => {
  const rows = [
    summaryRow({ runId: 'a', earlyMaxTraceF: 10, finalTestAccuracy: 0.9 }),
    summaryRow({ runId: 'b', earlyMaxTraceF: 100, finalTestAccuracy: 0.85 }),
    summaryRow({ runId: 'c', earlyMaxTraceF: 1000, finalTestAccuracy: 0.86, status: 'unknown' }),
    summaryRow({ runId: 'd', earlyMaxTraceF: 10000, finalTestAccuracy: 0.7 }),
    summaryRow({ runId: 'e', earlyMaxTraceF: 5, finalTestAccuracy: 0.1, status: 'diverged' }),
    summaryRow({ runId: 'f', earlyMaxTraceF: 5, finalTestAccuracy: 0.5, status: 'running' }),
    summaryRow({ runId: 'g', earlyMaxTraceF: 50, finalTestAccuracy: null }),
  ];
  const result = earlyFisherVsAccuracy(rows);
  it('uses finished runs with both numbers only, and says why the others were left out', () => {
    expect(result.points.map((p) => p.runId)).toEqual(['a', 'b', 'c', 'd']);
    expect(result.excluded).toEqual([
      { runId: 'e', reason: 'status diverged' },
      { runId: 'f', reason: 'status running' },
      { runId: 'g', reason: 'no test accuracy' },
    ]);
  });
  it('Pearson on log10 Tr(F) by hand: x = 1..4, Sxy = −0.295, Sxx = 5, Syy = 0.023075', () => {
    expect(result.pearsonLog!.value).toBeCloseTo(-0.295 / Math.sqrt(5 * 0.023075), 10);
    expect(result.pearsonLog!.n).toBe(4);
    const r = result.pearsonLog!.value;
    expect(result.pearsonLog!.stdErr).toBeCloseTo(Math.sqrt((1 - r * r) / 2), 10);
  });
  it('Spearman by hand: accuracy ranks 4, 2, 3, 1 → Σd² = 18 → ρ = 1 − 108/60', () => {
    expect(result.spearman!.value).toBeCloseTo(1 - 108 / 60, 12);
  });
});
