import type { ColumnTable } from 'arquero';

export interface FinalCurvature {
  runId: string;
  epoch: number;
  /** Hutchinson estimate of Tr(H) at the last probe that measured it, with its standard error. */
  traceH: number | null;
  traceHStdErr: number | null;
  /** Top Hessian eigenvalue at the last probe that measured it. */
  topEigenvalue: number | null;
}

/** Per run, the flatness measured last (the paper: low early Tr(F) ends in flatter minima). */
export function finalCurvature(curvature: ColumnTable): Map<string, FinalCurvature> {
  const rows = curvature.objects() as {
    runId: string;
    step: number;
    epoch: number;
    traceH: number | null;
    traceHStdErr: number | null;
    topEigenvalue: number | null;
  }[];
  rows.sort((a, b) => a.step - b.step);
  const out = new Map<string, FinalCurvature>();
  for (const r of rows) {
    const prev = out.get(r.runId);
    out.set(r.runId, {
      runId: r.runId,
      epoch: r.epoch,
      traceH: r.traceH ?? prev?.traceH ?? null,
      traceHStdErr: r.traceH !== null ? r.traceHStdErr : (prev?.traceHStdErr ?? null),
      topEigenvalue: r.topEigenvalue ?? prev?.topEigenvalue ?? null,
    });
  }
  return out;
}
