import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { CurvatureRecord } from '@fisherlab/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spectralDensityRows, topEigenvaluesVsTraceRows } from '../analysis/spectra.js';
import { curveRecords, runConfig, runMeta, writeRun } from '../fixtures/runFixtures.js';
import { type RunSet, readRuns } from '../read/readRuns.js';
import { composeReport } from '../report/buildReport.js';
import { renderSvg } from '../report/svg.js';
import { topEigenvaluesChart } from './flatMinima.js';
import { spectralDensityChart } from './spectralDensity.js';

/** What `fisherlab curvature` appends: one record per matrix, eigenvalues and a density bump at them. */
function measured(matrix: 'hessian' | 'fisher', sharpness: number, step: number): CurvatureRecord {
  const top = [sharpness, sharpness / 2, sharpness / 4];
  const grid = Array.from({ length: 50 }, (_, i) => -1 + (i * (sharpness + 2)) / 49);
  const values = grid.map((t) => 0.9 * Math.exp(-(t ** 2) * 4) + 0.1 * Math.exp(-((t - sharpness) ** 2)));
  return {
    kind: 'curvature',
    step,
    epoch: step / 100,
    time: step / 100,
    matrix,
    examples: 256,
    split: 'train',
    topEigenvalues: top,
    density: { grid, values, runs: 3, steps: 30 },
  };
}

let root: string;
let set: RunSet;
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'fisherlab-spectra-'));
  const arms = [
    { dir: 'small-lr', lr: 0.005, final: 600, sharpness: 80 },
    { dir: 'small-lr-fp', lr: 0.005, penalty: 'fisher' as const, final: 120, sharpness: 20 },
  ];
  for (const arm of arms) {
    for (const seed of [1, 2]) {
      const records = curveRecords({ epochs: 4, traceF: (e) => arm.final * (1 + e) * seed });
      // An earlier measurement that the chart must not use, then the one at the end.
      records.push(measured('hessian', 1, 200), measured('hessian', arm.sharpness * seed, 400));
      records.push(measured('fisher', arm.sharpness * seed * 0.9, 400));
      const id = `${arm.dir}-s${seed}`;
      await writeRun(path.join(root, id), {
        config: runConfig({
          lr: arm.lr,
          ...(arm.penalty ? { penalty: arm.penalty, alpha: 0.1 } : {}),
          seed,
          name: id,
          epochs: 4,
        }),
        meta: runMeta(id, 'completed'),
        records,
      });
    }
  }
  set = await readRuns(root);
});
afterAll(async () => rm(root, { recursive: true, force: true }));

describe('curvature records of `fisherlab curvature` in the report', () => {
  it('top eigenvalues: the last measurement per run and matrix, beside the final Tr(F)', () => {
    const rows = topEigenvaluesVsTraceRows(set.tables).objects() as {
      name: string;
      matrix: string;
      rank: number;
      eigenvalue: number;
      finalTraceF: number;
    }[];
    expect(rows).toHaveLength(4 * 2 * 3);
    const top = rows.find((r) => r.name === 'small-lr-s2' && r.matrix === 'hessian' && r.rank === 1)!;
    expect(top.eigenvalue).toBe(160);
    // The final Tr(F) is the last estimate: final · (1 + 4) · seed.
    expect(top.finalTraceF).toBeCloseTo(600 * 5 * 2, 6);
  });

  it('density rows: one per grid point of the last density per run and matrix', () => {
    expect(spectralDensityRows(set.tables).numRows()).toBe(4 * 2 * 50);
  });

  it.each([
    ['top eigenvalues', () => topEigenvaluesChart(topEigenvaluesVsTraceRows(set.tables))],
    ['spectral density', () => spectralDensityChart(spectralDensityRows(set.tables))],
  ])('%s: the spec renders to SVG with a mark per point or line', async (_name, build) => {
    const outcome = build();
    expect(outcome.chart).not.toBeNull();
    const svg = await renderSvg(outcome.chart!.spec);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toMatch(/role-mark/);
    expect(JSON.stringify(outcome.chart!.spec)).toContain('"type":"log"');
  });

  it('the report draws both only when some run has such records', () => {
    const ids = composeReport(set).charts.map((c) => c.id);
    expect(ids).toEqual(expect.arrayContaining(['top-eigenvalues-vs-trace', 'spectral-density']));
    const without = {
      ...set,
      runs: set.runs.map((r) => ({ ...r, records: r.records.filter((m) => m.kind !== 'curvature') })),
    };
    expect(composeReport(without).charts.map((c) => c.id)).not.toContain('spectral-density');
  });

  it('says what is missing when nothing was measured', () => {
    const empty = { ...set.tables, curvature: set.tables.curvature.filter(() => false) };
    expect(topEigenvaluesChart(topEigenvaluesVsTraceRows(empty)).notes[0]).toMatch(/fisherlab curvature/);
    expect(spectralDensityChart(spectralDensityRows(empty)).notes[0]).toMatch(/--measure density/);
  });
});
