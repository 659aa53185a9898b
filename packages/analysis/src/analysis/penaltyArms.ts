import type { RunInfo } from '../read/readRuns.js';
import { datasetDisplayName } from '../read/runConfig.js';
import { DEFAULT_GROUP_IGNORE_KEYS, groupKeyOf } from './groups.js';
import { isFinished, type RunSummary } from './runSummary.js';
import { meanSpread } from './stats.js';

export type ArmRole = 'small lr' | 'tuned lr' | 'small lr + FP' | 'small lr + GradNorm';

export interface PenaltyArm {
  role: ArmRole;
  /** Display label, e.g. "small lr (0.005) + FP α=0.1". */
  label: string;
  group: string;
  lr: number;
  alpha: number | null;
}

export interface PenaltyFamily {
  /** What the family's runs share (its first group's label without lr and penalty). */
  label: string;
  arms: PenaltyArm[];
}

/**
 * Figure 2's arms. Runs that agree on everything but the learning rate and the penalty form a family.
 * In a family: the small lr is the lowest lr a penalty was applied at (or the lowest lr when no
 * run is penalized); the tuned lr is the unpenalized lr above it with the best mean final test
 * accuracy across finished seeds. Arms: small lr, tuned lr, small lr + FP, small lr + GradNorm
 * (one arm per α). The tuned lr needs a finished run with a test accuracy. Families without a
 * penalized arm, or with fewer than two arms, are dropped (without a penalty it is Figure 1).
 */
export function penaltyFamilies(
  runs: readonly RunInfo[],
  summaries: readonly RunSummary[],
  ignoreKeys: readonly string[] = DEFAULT_GROUP_IGNORE_KEYS,
): PenaltyFamily[] {
  const finalAcc = new Map(
    summaries.map((s) => [s.runId, isFinished(s.status) ? s.finalTestAccuracy : null]),
  );
  const families = new Map<string, RunInfo[]>();
  for (const run of runs) {
    if (run.config === null || run.view.lr === null) continue;
    const { optimizer, penalty, ...rest } = run.config as Record<string, unknown>;
    const { lr: _lr, ...optimizerRest } = (optimizer ?? {}) as Record<string, unknown>;
    const key = groupKeyOf({ ...rest, optimizer: optimizerRest }, ignoreKeys);
    families.set(key, [...(families.get(key) ?? []), run]);
  }
  const out: PenaltyFamily[] = [];
  for (const members of families.values()) {
    const penalized = members.filter((r) => r.view.penaltyKind !== 'none');
    const plain = members.filter((r) => r.view.penaltyKind === 'none');
    const lrs = (list: RunInfo[]) => [...new Set(list.map((r) => r.view.lr!))].sort((a, b) => a - b);
    const smallLr = penalized.length > 0 ? lrs(penalized)[0]! : lrs(plain)[0];
    if (smallLr === undefined) continue;
    const meanAcc = (lr: number): number => {
      const values = plain
        .filter((r) => r.view.lr === lr)
        .map((r) => finalAcc.get(r.id))
        .filter((v): v is number => typeof v === 'number');
      return values.length > 0 ? meanSpread(values).mean : Number.NEGATIVE_INFINITY;
    };
    const tunedLr = lrs(plain)
      .filter((lr) => lr > smallLr && Number.isFinite(meanAcc(lr)))
      .sort((a, b) => meanAcc(b) - meanAcc(a))[0];
    const arms: PenaltyArm[] = [];
    // "small" only means something beside a larger tuned rate: a family trained at one rate (e.g. a
    // noisy-label pair at the tuned rate) is labelled by its rate alone.
    const smallName = tunedLr === undefined ? `lr ${smallLr}` : `small lr (${smallLr})`;
    const groupOf = (pick: (r: RunInfo) => boolean): Map<string, RunInfo> => {
      const byGroup = new Map<string, RunInfo>();
      for (const r of members) if (pick(r)) byGroup.set(r.group, r);
      return byGroup;
    };
    for (const r of groupOf((r) => r.view.penaltyKind === 'none' && r.view.lr === smallLr).values()) {
      arms.push({
        role: 'small lr',
        label: smallName,
        group: r.group,
        lr: smallLr,
        alpha: null,
      });
    }
    if (tunedLr !== undefined) {
      for (const r of groupOf((r) => r.view.penaltyKind === 'none' && r.view.lr === tunedLr).values()) {
        arms.push({
          role: 'tuned lr',
          label: `tuned lr (${tunedLr})`,
          group: r.group,
          lr: tunedLr,
          alpha: null,
        });
      }
    }
    for (const kind of ['fisher', 'gradnorm'] as const) {
      const name = kind === 'fisher' ? 'FP' : 'GradNorm';
      const byGroup = [...groupOf((r) => r.view.penaltyKind === kind && r.view.lr === smallLr).values()];
      byGroup.sort((a, b) => (a.view.penaltyAlpha ?? 0) - (b.view.penaltyAlpha ?? 0));
      for (const r of byGroup) {
        arms.push({
          role: kind === 'fisher' ? 'small lr + FP' : 'small lr + GradNorm',
          label: `${smallName} + ${name} α=${r.view.penaltyAlpha}`,
          group: r.group,
          lr: smallLr,
          alpha: r.view.penaltyAlpha,
        });
      }
    }
    if (arms.length < 2 || !arms.some((a) => a.role.includes('+'))) continue;
    const first = members[0]!.view;
    const noise = first.noise ? `, noise ${Math.round(first.noise.fraction * 100)}%` : '';
    out.push({ label: `${first.arch ?? 'model'} on ${datasetDisplayName(first.datasetName)}${noise}`, arms });
  }
  return out;
}
