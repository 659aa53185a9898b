import type { RunSummary } from '@fisherlab/analysis';
import { describe, expect, it } from 'vitest';
import { demoFindings, groupByArm, type RunsByArm } from './findings.js';
import type { DemoArm } from './plan.js';

const labels: Record<DemoArm, string> = {
  tuned: 'tuned',
  small: 'small',
  'small+FP': 'small+FP',
  noisy: 'noisy',
  'noisy+FP': 'noisy+FP',
};

const summary = (runId: string, seed: number, values: Partial<RunSummary>): RunSummary =>
  ({
    runId,
    name: runId,
    group: runId,
    seed,
    status: 'completed',
    statusDetail: null,
    tailTestAccuracy: null,
    tailTrainAccuracy: null,
    tailTrainCleanAccuracy: null,
    tailTrainNoisyAccuracy: null,
    maxTraceF: null,
    earlyMaxTraceF: null,
    ...values,
  }) as RunSummary;

/** Three seeds per arm; `offsets[s]` shifts every accuracy of seed s (what seeds share cancels in pairs). */
function runs(arms: Partial<Record<DemoArm, (seed: number) => Partial<RunSummary>>>): RunsByArm {
  const all: RunSummary[] = [];
  const where = new Map<string, { arm: DemoArm; seed: number }>();
  for (const [arm, values] of Object.entries(arms) as [DemoArm, (seed: number) => Partial<RunSummary>][]) {
    for (const seed of [0, 1, 2]) {
      const id = `s${seed}-${arm}`;
      where.set(id, { arm, seed });
      all.push(summary(id, seed, values(seed)));
    }
  }
  return groupByArm(all, (id) => where.get(id));
}

const offsets = [0, 0.02, -0.01];
const paper = {
  tuned: (s: number) => ({
    tailTestAccuracy: 0.86 + offsets[s]!,
    tailTrainAccuracy: 0.99,
    earlyMaxTraceF: 100,
    maxTraceF: 120,
  }),
  small: (s: number) => ({
    tailTestAccuracy: 0.83 + offsets[s]! + 0.001 * s,
    tailTrainAccuracy: 0.97,
    earlyMaxTraceF: 400 + 10 * s,
    maxTraceF: 600,
  }),
  'small+FP': (s: number) => ({
    tailTestAccuracy: 0.845 + offsets[s]!,
    tailTrainAccuracy: 0.96,
    maxTraceF: 150 + s,
  }),
  noisy: (s: number) => ({
    tailTestAccuracy: 0.78 + offsets[s]!,
    tailTrainCleanAccuracy: 0.99,
    tailTrainNoisyAccuracy: 0.6 + 0.01 * s,
  }),
  'noisy+FP': (s: number) => ({
    tailTestAccuracy: 0.82 + offsets[s]!,
    tailTrainCleanAccuracy: 0.97 - 0.001 * s,
    tailTrainNoisyAccuracy: 0.3,
  }),
};

describe('demo findings from paired seeds', () => {
  it('holds each finding whose effects all point the paper’s way with intervals clear of zero', () => {
    const { findings, effects } = demoFindings(runs(paper), labels);
    expect(findings.map((f) => f.verdict)).toEqual(['held', 'held', 'held']);
    const [a, b, c] = findings;
    // Paired: seed offsets cancel, so tuned − small is 3.0, 2.9, 2.8 points.
    expect(a!.text).toMatch(
      /test accuracy, tuned lr − small lr: \+2\.9 ± 0\.1 points \(95% CI \+2\.7 to \+3\.1; 3 of 3 seeds\)/,
    );
    expect(a!.text).toMatch(/early max Tr\(F\) of the small lr over the tuned lr: 4\.10x/);
    // FP − small = 1.5, 1.4, 1.3 of a 3.0, 2.9, 2.8 gap: 1.4 / 2.9 = 48%.
    expect(b!.text).toMatch(/^max Tr\(F\) with FP over without: 0\.25\dx/);
    expect(b!.text).toMatch(
      /test accuracy, small lr \+ FP − small lr: \+1\.4 ± 0\.1 points \(95% CI [^;]+; 3 of 3 seeds\)/,
    );
    expect(b!.text).toMatch(/FP recovers 48% ± \d+% of the small-lr gap of \+2\.9/);
    expect(b!.text).toMatch(/Small lr \+ FP − tuned lr: −1\.5 ± 0\.0 points/);
    expect(b!.text).toMatch(/Fit \(train accuracy\): small 97\.0%, small\+FP 96\.0%/);
    expect(c!.text).toMatch(/noisy-label examples 61\.0% → 30\.0% with FP/);
    expect(effects.map((e) => e.label[1])).toEqual(['a', 'a', 'b', 'b', 'c', 'c', 'c']);
  });

  it('calls a finding inconclusive when the means agree but an interval includes zero', () => {
    const noisySeeds = [0.01, -0.004, 0.012];
    const { findings } = demoFindings(
      runs({
        ...paper,
        'small+FP': (s) => ({ tailTestAccuracy: 0.83 + offsets[s]! + noisySeeds[s]!, maxTraceF: 150 }),
      }),
      labels,
    );
    expect(findings[1]!.verdict).toBe('inconclusive');
    expect(findings[1]!.held).toBe(false);
  });

  it('does not claim what the runs contradict, or what it could not check', () => {
    const contradicted = demoFindings(
      runs({
        ...paper,
        small: (s) => ({ tailTestAccuracy: 0.87 + offsets[s]!, earlyMaxTraceF: 90, maxTraceF: 100 }),
        'noisy+FP': (s) => ({ tailTrainCleanAccuracy: 0.7, tailTrainNoisyAccuracy: 0.6 + 0.01 * s }),
      }),
      labels,
    ).findings;
    expect(contradicted.map((f) => f.verdict)).toEqual(['not held', 'not held', 'not held']);
    expect(contradicted[1]!.text).toMatch(/There is no small-lr gap to recover/);
    const missing = demoFindings(runs({ tuned: paper.tuned }), labels).findings;
    expect(missing.every((f) => f.verdict === 'not held' && /could not be checked/.test(f.text))).toBe(true);
  });

  it("judges (b) on its own claim: the penalty's effect at the small rate, whether or not (a)'s gap exists", () => {
    const noGap = demoFindings(
      runs({
        ...paper,
        small: (s) => ({
          tailTestAccuracy: 0.87 + offsets[s]! + 0.001 * s,
          earlyMaxTraceF: 90,
          maxTraceF: 600,
        }),
        'small+FP': (s) => ({ tailTestAccuracy: 0.885 + offsets[s]!, maxTraceF: 150 + s }),
      }),
      labels,
    ).findings;
    expect(noGap[0]!.verdict).toBe('not held');
    expect(noGap[1]!.verdict).toBe('held');
    expect(noGap[1]!.text).toMatch(/There is no small-lr gap to recover \(tuned − small −1\.1/);
  });

  it('leaves out runs that did not finish', () => {
    const where = (id: string) => ({ arm: 'tuned' as const, seed: Number(id) });
    const byArm = groupByArm(
      [
        summary('0', 0, { tailTestAccuracy: 0.8 }),
        { ...summary('1', 1, { tailTestAccuracy: 0.8 }), status: 'failed' },
      ],
      where,
    );
    expect([...byArm.get('tuned')!.keys()]).toEqual([0]);
  });
});
