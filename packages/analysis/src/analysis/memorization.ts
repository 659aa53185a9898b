import * as aq from 'arquero';
import type { RunTables } from '../read/readRuns.js';
import { type SeedCurvePoint, seedCurves } from './seedCurves.js';

export interface MemorizationPoint extends SeedCurvePoint {
  /** 'clean': examples whose label was kept; 'noisy': examples whose label was replaced. */
  subset: 'clean' | 'noisy';
}

/**
 * Figure 3's curves: training accuracy on clean and on noisy-label examples, mean and spread across
 * seeds, for every group trained with label noise that measured both.
 */
export function memorizationCurves(tables: RunTables): MemorizationPoint[] {
  const noisyRuns = new Set(
    (tables.runs.objects() as { runId: string; noiseFraction: number | null }[])
      .filter((r) => r.noiseFraction !== null && r.noiseFraction > 0)
      .map((r) => r.runId),
  );
  const evals = tables.evals.filter(aq.escape((d: { runId: string }) => noisyRuns.has(d.runId)));
  return [
    ...seedCurves(evals, 'trainCleanAccuracy').map((p) => ({ ...p, subset: 'clean' as const })),
    ...seedCurves(evals, 'trainNoisyAccuracy').map((p) => ({ ...p, subset: 'noisy' as const })),
  ];
}
