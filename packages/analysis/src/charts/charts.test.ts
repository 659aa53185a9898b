import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { earlyFisherVsAccuracy } from '../analysis/earlyFisher.js';
import { penaltyFamilies } from '../analysis/penaltyArms.js';
import { summarizeRuns } from '../analysis/runSummary.js';
import { writePaperLikeRuns } from '../fixtures/paperRuns.js';
import { curveRecords, runConfig, runMeta, writeRun } from '../fixtures/runFixtures.js';
import { type RunSet, readRuns } from '../read/readRuns.js';
import { renderSvg } from '../report/svg.js';
import type { ChartOutcome } from './chart.js';
import { earlyFisherScatterChart } from './earlyFisherScatter.js';
import { fisherExplosionChart } from './fisherExplosion.js';
import { memorizationChart } from './memorization.js';
import { penaltyVsLrChart } from './penaltyVsLr.js';

/** Data marks in vega's SVG: children of groups with role-mark (axes, legends and titles excluded). */
function countDataMarks(svg: string): number {
  let count = 0;
  for (const m of svg.matchAll(/<g class="mark-(\w+) role-mark[^"]*"[^>]*>(.*?)<\/g>/gs)) {
    count += (m[2]!.match(/<(path|rect|line|text|circle)\b/g) ?? []).length;
  }
  return count;
}

let root: string;
let set: RunSet;
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'fisherlab-charts-'));
  await writePaperLikeRuns(root);
  set = await readRuns(root);
});
afterAll(async () => rm(root, { recursive: true, force: true }));

type Name = 'fisher' | 'penalty' | 'memorization' | 'scatter';
const outcomes = (): Record<Name, ChartOutcome> => {
  const summary = summarizeRuns(set.tables, 2);
  return {
    fisher: fisherExplosionChart(set.tables),
    penalty: penaltyVsLrChart(set.tables, penaltyFamilies(set.runs, summary), summary),
    memorization: memorizationChart(set.tables),
    scatter: earlyFisherScatterChart(earlyFisherVsAccuracy(summary), 'epochs ≤ 2'),
  };
};

describe('chart specs render to SVG in Node with data marks', () => {
  it.each<Name>(['fisher', 'penalty', 'memorization', 'scatter'])('%s', async (name) => {
    const outcome = outcomes()[name];
    expect(outcome.chart).not.toBeNull();
    const svg = await renderSvg(outcome.chart!.spec);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(countDataMarks(svg)).toBeGreaterThan(0);
  });
  it('the Fisher explosion uses a log axis for Tr(F) and draws one line per group', () => {
    const spec = JSON.stringify(outcomes().fisher.chart!.spec);
    expect(spec).toContain('"type":"log"');
    const groups = new Set(set.runs.filter((r) => r.status !== 'unknown').map((r) => r.group));
    for (const g of groups) expect(spec).toContain(JSON.stringify(g));
  });
  it('the scatter title carries both correlations', () => {
    const title = JSON.stringify(outcomes().scatter.chart!.spec.title);
    expect(title).toMatch(/Pearson r \(log₁₀ Tr\(F\)\) = -?[\d.]+ ± [\d.]+/);
    expect(title).toMatch(/Spearman ρ = -?[\d.]+/);
  });
});

describe('charts that cannot be drawn say why', () => {
  it('no noisy runs, no penalty family, too few points', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'fisherlab-charts-one-'));
    await writeRun(dir, {
      config: runConfig(),
      meta: runMeta('one', 'completed'),
      records: curveRecords({ epochs: 2, traceF: () => 5, test: () => 0.5 }),
    });
    const one = await readRuns(dir);
    const summary = summarizeRuns(one.tables);
    expect(memorizationChart(one.tables)).toEqual({
      chart: null,
      notes: [expect.stringMatching(/no noisy runs found/)],
    });
    expect(penaltyVsLrChart(one.tables, penaltyFamilies(one.runs, summary), summary).chart).toBeNull();
    expect(earlyFisherScatterChart(earlyFisherVsAccuracy(summary), 'epochs ≤ 3').notes[0]).toMatch(
      /needs at least 2 finished runs.*found 1/,
    );
    // No eval of training accuracy: the train panel is left out and said so.
    expect(fisherExplosionChart(one.tables).notes.join(' ')).toMatch(/running accuracy of logged steps/);
    await rm(dir, { recursive: true, force: true });
  });
});
