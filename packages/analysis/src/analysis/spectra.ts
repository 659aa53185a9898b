import type { CurvatureRecord } from '@fisherlab/storage';
import type { ColumnTable } from 'arquero';
import * as aq from 'arquero';
import type { RunTables } from '../read/readRuns.js';
import { traceFRows } from './fisherTrace.js';

interface SpectrumRecordRow {
  runId: string;
  group: string;
  step: number;
  epoch: number;
  matrix: string | null;
  topEigenvalues: number[] | null;
  densityGrid: number[] | null;
  density: number[] | null;
}

/** Per run and matrix, the last curvature record of `fisherlab curvature` that has `field`. */
function lastWith(tables: RunTables, field: 'topEigenvalues' | 'density'): SpectrumRecordRow[] {
  const rows = (tables.curvature.objects() as SpectrumRecordRow[]).filter(
    (r) => r.matrix !== null && r[field] !== null,
  );
  rows.sort((a, b) => a.step - b.step);
  const last = new Map<string, SpectrumRecordRow>();
  for (const r of rows) last.set(`${r.runId}\u0000${r.matrix}`, r);
  return [...last.values()];
}

const namesOf = (tables: RunTables) =>
  new Map((tables.runs.objects() as { runId: string; name: string }[]).map((r) => [r.runId, r.name]));

/**
 * The spectral densities to plot: per run and matrix, the last measured density as rows
 * { runId, name, group, matrix, epoch, eigenvalue, density } (one per grid point).
 */
export function spectralDensityRows(tables: RunTables): ColumnTable {
  const names = namesOf(tables);
  const rows = lastWith(tables, 'density').flatMap((r) =>
    (r.densityGrid as number[]).map((t, i) => ({
      runId: r.runId,
      name: names.get(r.runId) ?? r.runId,
      group: r.group,
      matrix: r.matrix as string,
      epoch: r.epoch,
      eigenvalue: t,
      density: (r.density as number[])[i] ?? null,
    })),
  );
  return aq.from(rows, ['runId', 'name', 'group', 'matrix', 'epoch', 'eigenvalue', 'density']);
}

/**
 * The flat-minima comparison: per run and matrix, its last measured top eigenvalues (one row per
 * rank k = 1, 2, ...) beside its final Tr(F) (the last estimate of its preferred estimator):
 * { runId, name, group, matrix, epoch, rank, eigenvalue, finalTraceF, finalTraceFStdErr }.
 * Runs without a Tr(F) estimate get null there.
 */
export function topEigenvaluesVsTraceRows(tables: RunTables): ColumnTable {
  const names = namesOf(tables);
  const finalTrace = new Map<string, { traceF: number; traceFStdErr: number | null; step: number }>();
  for (const r of traceFRows(tables.fisher).objects() as {
    runId: string;
    step: number;
    traceF: number;
    traceFStdErr: number | null;
  }[]) {
    const prev = finalTrace.get(r.runId);
    if (!prev || r.step >= prev.step) finalTrace.set(r.runId, r);
  }
  const rows = lastWith(tables, 'topEigenvalues').flatMap((r) =>
    (r.topEigenvalues as number[]).map((eigenvalue, i) => ({
      runId: r.runId,
      name: names.get(r.runId) ?? r.runId,
      group: r.group,
      matrix: r.matrix as string,
      epoch: r.epoch,
      rank: i + 1,
      eigenvalue,
      finalTraceF: finalTrace.get(r.runId)?.traceF ?? null,
      finalTraceFStdErr: finalTrace.get(r.runId)?.traceFStdErr ?? null,
    })),
  );
  return aq.from(rows, [
    'runId',
    'name',
    'group',
    'matrix',
    'epoch',
    'rank',
    'eigenvalue',
    'finalTraceF',
    'finalTraceFStdErr',
  ]);
}

/**
 * One curvature record as text: the matrix, where it was measured, its top eigenvalues, the span of
 * its density and the Fisher diagonal per layer with standard errors (what `fisherlab curvature`
 * prints).
 */
export function describeCurvatureRecord(r: CurvatureRecord): string {
  const name = r.matrix === 'fisher' ? 'Fisher' : 'Hessian';
  const where = r.examples === undefined ? '' : `, ${r.examples}${r.split ? ` ${r.split}` : ''} examples`;
  const lines = [`${name} at step ${r.step} (epoch ${r.epoch.toFixed(2)})${where}`];
  if (r.topEigenvalues)
    lines.push(`  top eigenvalues: ${r.topEigenvalues.map((v) => v.toPrecision(5)).join(', ')}`);
  if (r.density) {
    const { grid } = r.density;
    lines.push(
      `  spectral density: ${r.density.runs} SLQ runs × ${r.density.steps} steps on [${grid[0]?.toPrecision(4)}, ${grid.at(-1)?.toPrecision(4)}]`,
    );
  }
  if (r.diagFisher) {
    const d = r.diagFisher;
    lines.push(`  Σ diag(F) (${d.estimator}) = ${d.trace.toPrecision(6)} ± ${d.traceStdErr.toPrecision(3)}`);
    for (const [layer, e] of Object.entries(d.perLayer))
      lines.push(`    ${layer.padEnd(28)} ${e.value.toPrecision(5)} ± ${e.stdErr.toPrecision(3)}`);
  }
  return lines.join('\n');
}
