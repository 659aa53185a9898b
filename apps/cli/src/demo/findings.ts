import {
  isFinished,
  type LabelledEffect,
  type PairedEffect,
  pairedEffect,
  type RunSummary,
  ratioOfPairedMeans,
} from '@fisherlab/analysis';
import type { DemoArm } from './plan.js';

/**
 * The paper's three findings, checked on the demo's runs from paired per-seed differences. A
 * finding is 'held' when every effect it claims points the paper's way with a 95% interval that
 * excludes zero, 'inconclusive' when the means point that way but an interval includes zero, and
 * 'not held' otherwise (or when its runs are missing).
 */
export type Verdict = 'held' | 'inconclusive' | 'not held';

export interface Finding {
  id: 'a' | 'b' | 'c';
  title: string;
  held: boolean;
  verdict: Verdict;
  text: string;
}

export interface DemoEvidence {
  findings: Finding[];
  /** The effects behind the findings, for the report's chart. */
  effects: LabelledEffect[];
}

/** arm → seed → that run's summary (finished runs only). */
export type RunsByArm = Map<DemoArm, Map<number, RunSummary>>;

export function groupByArm(
  summaries: readonly RunSummary[],
  armOf: (runId: string) => { arm: DemoArm; seed: number } | undefined,
): RunsByArm {
  const out: RunsByArm = new Map();
  for (const s of summaries) {
    const where = armOf(s.runId);
    if (!where || !isFinished(s.status)) continue;
    const bySeed = out.get(where.arm) ?? new Map<number, RunSummary>();
    bySeed.set(where.seed, s);
    out.set(where.arm, bySeed);
  }
  return out;
}

type Pick = (r: RunSummary) => number | null;

function perSeed(runs: RunsByArm, arm: DemoArm, pick: Pick): Map<number, number> {
  const out = new Map<number, number>();
  for (const [seed, r] of runs.get(arm) ?? []) {
    const v = pick(r);
    if (v !== null && Number.isFinite(v)) out.set(seed, v);
  }
  return out;
}

const log10 =
  (pick: Pick): Pick =>
  (r) => {
    const v = pick(r);
    return v !== null && v > 0 ? Math.log10(v) : null;
  };
const testAcc: Pick = (r) => r.tailTestAccuracy;
const trainAcc: Pick = (r) => r.tailTrainAccuracy;

/** The effect of arm a over arm b on `pick`, or null when they share no seed. */
function effect(
  runs: RunsByArm,
  a: DemoArm,
  b: DemoArm,
  pick: Pick,
  expected: 'positive' | 'negative',
): PairedEffect | null {
  const x = perSeed(runs, a, pick);
  const y = perSeed(runs, b, pick);
  return [...x.keys()].some((s) => y.has(s)) ? pairedEffect(x, y, expected) : null;
}

/** Whether an effect points the expected way, and whether its 95% interval excludes zero too. */
function direction(e: PairedEffect): 'sure' | 'mean only' | 'against' {
  const right = e.expected === 'positive' ? e.mean > 0 : e.mean < 0;
  if (!right) return 'against';
  if (e.ci95 === null) return 'mean only';
  return (e.expected === 'positive' ? e.ci95[0] > 0 : e.ci95[1] < 0) ? 'sure' : 'mean only';
}

function verdictOf(effects: PairedEffect[]): Verdict {
  const d = effects.map(direction);
  if (d.includes('against')) return 'not held';
  return d.every((x) => x === 'sure') ? 'held' : 'inconclusive';
}

const signed = (x: number, digits = 1) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(digits)}`;

/** "+1.2 ± 0.4 points (95% CI +0.1 to +2.3; 3 of 3 seeds)" for an accuracy difference. */
export function describePoints(e: PairedEffect): string {
  const se = e.stdErr === null ? '' : ` ± ${(100 * e.stdErr).toFixed(1)}`;
  const ci = e.ci95 === null ? '' : `95% CI ${signed(100 * e.ci95[0])} to ${signed(100 * e.ci95[1])}; `;
  return `${signed(100 * e.mean)}${se} points (${ci}${e.agreeing} of ${e.n} seeds)`;
}

/** "11.5x (95% CI 8.0x to 16.3x; 3 of 3 seeds)" for a paired difference of log10 values. */
export function describeRatio(e: PairedEffect): string {
  const x = (v: number) => `${(10 ** v).toPrecision(3)}x`;
  const ci = e.ci95 === null ? '' : `95% CI ${x(e.ci95[0])} to ${x(e.ci95[1])}; `;
  return `${x(e.mean)} (${ci}${e.agreeing} of ${e.n} seeds)`;
}

const mean = (m: Map<number, number>) => [...m.values()].reduce((a, b) => a + b, 0) / m.size;
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

function missing(id: Finding['id'], title: string, arms: string[]): Finding {
  return {
    id,
    title,
    held: false,
    verdict: 'not held',
    text: `could not be checked: no finished runs sharing a seed for ${arms.join(', ')}`,
  };
}

const finding = (id: Finding['id'], title: string, verdict: Verdict, text: string): Finding => ({
  id,
  title,
  held: verdict === 'held',
  verdict,
  text,
});

/** Training accuracy of each arm (mean over seeds), to show whether the compared arms fit alike. */
function fitOf(runs: RunsByArm, arms: DemoArm[], labels: Record<DemoArm, string>): string {
  return arms
    .filter((a) => perSeed(runs, a, trainAcc).size > 0)
    .map((a) => `${labels[a]} ${pct(mean(perSeed(runs, a, trainAcc)))}`)
    .join(', ');
}

/**
 * Beside (b): the share of (a)'s gap (tuned − small) that the penalty recovers, and the penalized
 * small rate against the tuned rate. Context for (b), not part of its verdict.
 */
function gapShare(
  recovered: PairedEffect,
  gap: PairedEffect | null,
  versusTuned: PairedEffect | null,
): string {
  const tuned = versusTuned ? ` Small lr + FP − tuned lr: ${describePoints(versusTuned)}.` : '';
  if (!gap) return `No tuned-lr runs to compare with.${tuned}`;
  if (gap.mean <= 0)
    return `There is no small-lr gap to recover (tuned − small ${describePoints(gap)}).${tuned}`;
  const share = ratioOfPairedMeans(recovered, gap);
  const se = share.stdErr === null ? '' : ` ± ${(100 * share.stdErr).toFixed(0)}%`;
  return `FP recovers ${(100 * share.value).toFixed(0)}%${se} of the small-lr gap of ${describePoints(gap)}.${tuned}`;
}

/** Findings (a)-(c) and their effects. `labels` names each arm as the report does. */
export function demoFindings(runs: RunsByArm, labels: Record<DemoArm, string>): DemoEvidence {
  const effects: LabelledEffect[] = [];
  const add = (label: string, unit: string, e: PairedEffect | null, scale = 1) => {
    if (e) effects.push({ label, unit, effect: e, scale });
  };
  const findings: Finding[] = [];

  // (a) The small rate's early Tr(F) is higher, and it ends with lower test accuracy.
  const titleA = '(a) A small learning rate: higher early Tr(F), lower final test accuracy';
  const earlyRatio = effect(
    runs,
    'small',
    'tuned',
    log10((r) => r.earlyMaxTraceF),
    'positive',
  );
  const gap = effect(runs, 'tuned', 'small', testAcc, 'positive');
  add('(a) test accuracy: tuned lr − small lr', 'difference in test accuracy (points)', gap, 100);
  add('(a) early max Tr(F): small lr / tuned lr', 'log₁₀ of the ratio of early max Tr(F)', earlyRatio);
  if (!earlyRatio || !gap) findings.push(missing('a', titleA, [labels.tuned, labels.small]));
  else {
    findings.push(
      finding(
        'a',
        titleA,
        verdictOf([earlyRatio, gap]),
        `early max Tr(F) of the small lr over the tuned lr: ${describeRatio(earlyRatio)}; ` +
          `test accuracy, tuned lr − small lr: ${describePoints(gap)}. ` +
          `Fit (train accuracy): ${fitOf(runs, ['tuned', 'small'], labels)}.`,
      ),
    );
  }

  // (b) At the small rate, the penalty lowers Tr(F) and raises test accuracy. Its verdict is these
  // two effects alone; how much of (a)'s gap that recovers, and how it compares with the tuned
  // rate, are printed beside it (they depend on (a) holding, which is (a)'s claim, not (b)'s).
  const titleB = '(b) At the small learning rate, the Fisher penalty lowers Tr(F) and raises test accuracy';
  const recovered = effect(runs, 'small+FP', 'small', testAcc, 'positive');
  const traceCut = effect(
    runs,
    'small+FP',
    'small',
    log10((r) => r.maxTraceF),
    'negative',
  );
  const versusTuned = effect(runs, 'small+FP', 'tuned', testAcc, 'positive');
  add('(b) test accuracy: small lr + FP − small lr', 'difference in test accuracy (points)', recovered, 100);
  add('(b) max Tr(F): small lr + FP / small lr', 'log₁₀ of the ratio of max Tr(F)', traceCut);
  if (!recovered || !traceCut) {
    findings.push(missing('b', titleB, [labels.small, labels['small+FP']]));
  } else {
    findings.push(
      finding(
        'b',
        titleB,
        verdictOf([traceCut, recovered]),
        `max Tr(F) with FP over without: ${describeRatio(traceCut)}; ` +
          `test accuracy, small lr + FP − small lr: ${describePoints(recovered)}. ` +
          `${gapShare(recovered, gap, versusTuned)} ` +
          `Fit (train accuracy): ${fitOf(runs, ['small', 'small+FP'], labels)}.`,
      ),
    );
  }

  // (c) With noisy labels the penalty slows the fitting of the noisy examples far more.
  const titleC =
    '(c) With noisy labels the penalty slows fitting of the noisy examples far more than of the clean ones';
  const noisyDrop = effect(runs, 'noisy', 'noisy+FP', (r) => r.tailTrainNoisyAccuracy, 'positive');
  const cleanDrop = effect(runs, 'noisy', 'noisy+FP', (r) => r.tailTrainCleanAccuracy, 'positive');
  const testGain = effect(runs, 'noisy+FP', 'noisy', testAcc, 'positive');
  add(
    '(c) train accuracy on noisy-label examples: without FP − with FP',
    'difference (points)',
    noisyDrop,
    100,
  );
  add('(c) train accuracy on clean examples: without FP − with FP', 'difference (points)', cleanDrop, 100);
  add('(c) test accuracy: with FP − without FP', 'difference in test accuracy (points)', testGain, 100);
  if (!noisyDrop || !cleanDrop) {
    findings.push(missing('c', titleC, [labels.noisy, labels['noisy+FP']]));
  } else {
    // Per seed: how much more the noisy examples lose than the clean ones.
    const excess = pairedEffect(
      new Map(noisyDrop.perSeed.map((p) => [p.seed, p.difference])),
      new Map(cleanDrop.perSeed.map((p) => [p.seed, p.difference])),
      'positive',
    );
    const noisyAcc = (arm: DemoArm) => pct(mean(perSeed(runs, arm, (r) => r.tailTrainNoisyAccuracy)));
    const cleanAcc = (arm: DemoArm) => pct(mean(perSeed(runs, arm, (r) => r.tailTrainCleanAccuracy)));
    findings.push(
      finding(
        'c',
        titleC,
        verdictOf([noisyDrop, excess]),
        `train accuracy on noisy-label examples ${noisyAcc('noisy')} → ${noisyAcc('noisy+FP')} with FP, ` +
          `a drop of ${describePoints(noisyDrop)}; on clean examples ${cleanAcc('noisy')} → ${cleanAcc('noisy+FP')}, ` +
          `${describePoints(cleanDrop)}; the noisy examples lose ${describePoints(excess)} more than the clean ones` +
          (testGain ? `. Test accuracy with FP − without: ${describePoints(testGain)}.` : '.'),
      ),
    );
  }
  return { findings, effects };
}
