import type { RunSummary } from '@fisherlab/analysis';
import type { DemoArm } from './plan.js';

export interface Finding {
  id: 'a' | 'b' | 'c';
  title: string;
  held: boolean;
  text: string;
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const pts = (x: number) => `${(100 * x).toFixed(1)} points`;
const num = (x: number) => x.toPrecision(4);

type ByArm = Partial<Record<DemoArm, RunSummary>>;

/**
 * The paper's three findings, checked on this demo's runs, stated with the numbers the runs
 * produced. A finding that could not be checked (a run missing or unfinished) is reported as not held.
 */
export function demoFindings(byArm: ByArm): Finding[] {
  return [findingA(byArm), findingB(byArm), findingC(byArm)];
}

function missing(id: Finding['id'], title: string, arms: DemoArm[]): Finding {
  return { id, title, held: false, text: `could not be checked: no finished result for ${arms.join(', ')}` };
}

function findingA(r: ByArm): Finding {
  const title = '(a) A small learning rate: higher early Tr(F), lower final test accuracy';
  const tuned = r['tuned-lr'];
  const small = r['small-lr'];
  if (
    tuned?.earlyMaxTraceF == null ||
    small?.earlyMaxTraceF == null ||
    tuned.finalTestAccuracy == null ||
    small.finalTestAccuracy == null
  ) {
    return missing('a', title, ['tuned-lr', 'small-lr']);
  }
  const higherTrace = small.earlyMaxTraceF > tuned.earlyMaxTraceF;
  const lowerAccuracy = small.finalTestAccuracy < tuned.finalTestAccuracy;
  return {
    id: 'a',
    title,
    held: higherTrace && lowerAccuracy,
    text:
      `early max Tr(F): small lr ${num(small.earlyMaxTraceF)} vs tuned ${num(tuned.earlyMaxTraceF)} ` +
      `(${higherTrace ? `${(small.earlyMaxTraceF / tuned.earlyMaxTraceF).toFixed(2)}x higher` : 'not higher'}); ` +
      `final test accuracy: small lr ${pct(small.finalTestAccuracy)} vs tuned ${pct(tuned.finalTestAccuracy)} ` +
      `(${lowerAccuracy ? `${pts(tuned.finalTestAccuracy - small.finalTestAccuracy)} lower` : 'not lower'}); ` +
      `train accuracy small ${pct(small.finalTrainAccuracy ?? Number.NaN)} vs tuned ${pct(tuned.finalTrainAccuracy ?? Number.NaN)}.`,
  };
}

function findingB(r: ByArm): Finding {
  const title = "(b) The Fisher penalty lowers the small learning rate's Tr(F) and recovers test accuracy";
  const tuned = r['tuned-lr'];
  const small = r['small-lr'];
  const fp = r['small-lr+FP'];
  const gn = r['small-lr+GN'];
  if (
    tuned?.finalTestAccuracy == null ||
    small?.finalTestAccuracy == null ||
    fp?.finalTestAccuracy == null ||
    small.maxTraceF == null ||
    fp.maxTraceF == null
  ) {
    return missing('b', title, ['tuned-lr', 'small-lr', 'small-lr+FP']);
  }
  const gap = tuned.finalTestAccuracy - small.finalTestAccuracy;
  const recovered = fp.finalTestAccuracy - small.finalTestAccuracy;
  const share = gap > 0 ? recovered / gap : Number.NaN;
  const lowerTrace = fp.maxTraceF < small.maxTraceF;
  const gnText =
    gn?.finalTestAccuracy != null && gn.maxTraceF != null
      ? ` GradNorm: test ${pct(gn.finalTestAccuracy)}, max Tr(F) ${num(gn.maxTraceF)}${gap > 0 ? ` (recovers ${(100 * ((gn.finalTestAccuracy - small.finalTestAccuracy) / gap)).toFixed(0)}% of the gap)` : ''}.`
      : '';
  return {
    id: 'b',
    title,
    held: lowerTrace && recovered > 0 && gap > 0,
    text:
      `max Tr(F): small lr ${num(small.maxTraceF)} → with FP ${num(fp.maxTraceF)} (${lowerTrace ? `${(small.maxTraceF / fp.maxTraceF).toFixed(2)}x lower` : 'not lower'}); ` +
      `test accuracy: small lr ${pct(small.finalTestAccuracy)}, + FP ${pct(fp.finalTestAccuracy)}, tuned lr ${pct(tuned.finalTestAccuracy)}` +
      (gap > 0
        ? `: FP recovers ${(100 * share).toFixed(0)}% of the ${pts(gap)} gap.`
        : ': there is no gap to recover.') +
      gnText,
  };
}

function findingC(r: ByArm): Finding {
  const title =
    '(c) With noisy labels the penalty slows fitting of the noisy examples far more than of the clean ones';
  const plain = r.noisy;
  const fp = r['noisy+FP'];
  if (
    plain?.finalTrainNoisyAccuracy == null ||
    plain.finalTrainCleanAccuracy == null ||
    fp?.finalTrainNoisyAccuracy == null ||
    fp.finalTrainCleanAccuracy == null
  ) {
    return missing('c', title, ['noisy', 'noisy+FP']);
  }
  const noisyDrop = plain.finalTrainNoisyAccuracy - fp.finalTrainNoisyAccuracy;
  const cleanDrop = plain.finalTrainCleanAccuracy - fp.finalTrainCleanAccuracy;
  // "far more": the noisy examples lose at least twice as much training accuracy as the clean ones.
  const held = noisyDrop > 0 && noisyDrop > 2 * Math.max(cleanDrop, 0);
  return {
    id: 'c',
    title,
    held,
    text:
      `training accuracy on noisy-label examples: ${pct(plain.finalTrainNoisyAccuracy)} without FP → ${pct(fp.finalTrainNoisyAccuracy)} with FP (${pts(noisyDrop)} lower); ` +
      `on clean examples: ${pct(plain.finalTrainCleanAccuracy)} → ${pct(fp.finalTrainCleanAccuracy)} (${pts(cleanDrop)} ${cleanDrop >= 0 ? 'lower' : 'higher'}); ` +
      `test accuracy ${pct(plain.finalTestAccuracy ?? Number.NaN)} → ${pct(fp.finalTestAccuracy ?? Number.NaN)}.`,
  };
}
