import type { RunSummary } from '@fisherlab/analysis';
import { describe, expect, it } from 'vitest';
import { demoFindings } from './findings.js';

const row = (name: string, values: Partial<RunSummary>): RunSummary =>
  ({
    runId: name,
    name,
    group: name,
    seed: 0,
    status: 'completed',
    statusDetail: null,
    ...values,
  }) as RunSummary;

describe('demo findings', () => {
  const runs = {
    'tuned-lr': row('tuned-lr', {
      finalTestAccuracy: 0.85,
      finalTrainAccuracy: 0.95,
      earlyMaxTraceF: 100,
      maxTraceF: 120,
    }),
    'small-lr': row('small-lr', {
      finalTestAccuracy: 0.8,
      finalTrainAccuracy: 0.96,
      earlyMaxTraceF: 400,
      maxTraceF: 500,
    }),
    'small-lr+FP': row('small-lr+FP', { finalTestAccuracy: 0.84, maxTraceF: 150 }),
    'small-lr+GN': row('small-lr+GN', { finalTestAccuracy: 0.82, maxTraceF: 300 }),
    noisy: row('noisy', {
      finalTrainCleanAccuracy: 0.9,
      finalTrainNoisyAccuracy: 0.5,
      finalTestAccuracy: 0.8,
    }),
    'noisy+FP': row('noisy+FP', {
      finalTrainCleanAccuracy: 0.88,
      finalTrainNoisyAccuracy: 0.2,
      finalTestAccuracy: 0.83,
    }),
  };

  it('states each finding with the numbers, and the share of the gap FP recovers', () => {
    const [a, b, c] = demoFindings(runs);
    expect(a).toMatchObject({ held: true });
    expect(a!.text).toMatch(/small lr 400.0 vs tuned 100.0 \(4.00x higher\)/);
    expect(a!.text).toMatch(/5.0 points lower/);
    expect(b).toMatchObject({ held: true });
    expect(b!.text).toMatch(/FP recovers 80% of the 5.0 points gap/);
    expect(b!.text).toMatch(/GradNorm: test 82.0%.*recovers 40% of the gap/);
    expect(c).toMatchObject({ held: true });
    expect(c!.text).toMatch(/30.0 points lower\); on clean examples: 90.0% → 88.0% \(2.0 points lower\)/);
  });

  it('does not claim a finding the numbers contradict, or one it could not check', () => {
    const contradicted = demoFindings({
      ...runs,
      'small-lr': row('small-lr', { finalTestAccuracy: 0.86, earlyMaxTraceF: 90, maxTraceF: 100 }),
      'noisy+FP': row('noisy+FP', { finalTrainCleanAccuracy: 0.7, finalTrainNoisyAccuracy: 0.4 }),
    });
    expect(contradicted.map((f) => f.held)).toEqual([false, false, false]);
    const missing = demoFindings({ 'tuned-lr': runs['tuned-lr'] });
    expect(missing.every((f) => !f.held && /could not be checked/.test(f.text))).toBe(true);
  });
});
