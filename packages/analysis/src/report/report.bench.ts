import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, bench, describe } from 'vitest';
import { describeEarlyWindow } from '../analysis/runSummary.js';
import { type ConfigOptions, curveRecords, runConfig, runMeta, writeRun } from '../fixtures/runFixtures.js';
import { readRuns } from '../read/readRuns.js';
import { composeReport } from './buildReport.js';
import { renderReportHtml } from './html.js';
import { renderSvg } from './svg.js';

// A sweep of 8 arms x 5 seeds = 40 runs, 100 epochs each, Tr(F) every half epoch: ~16k records.
const root = await mkdtemp(path.join(os.tmpdir(), 'fisherlab-bench-'));
afterAll(() => rm(root, { recursive: true, force: true }));
const arms: ConfigOptions[] = [0.1, 0.05, 0.01, 0.005].flatMap((lr) => [
  { lr },
  { lr, penalty: 'fisher', alpha: 0.1 },
]);
for (const [i, arm] of arms.entries()) {
  for (let seed = 1; seed <= 5; seed++) {
    const records = curveRecords({
      epochs: 100,
      traceF: (e) => 100 * (1 + i) * (1 + Math.exp(-((e - 5) ** 2) / 4)) * (1 + 0.01 * seed),
      test: (e) => 0.8 * (1 - Math.exp(-e / 10)),
      train: (e) => 0.95 * (1 - Math.exp(-e / 8)),
    });
    await writeRun(path.join(root, `arm${i}`, `s${seed}`), {
      config: runConfig({ ...arm, seed, epochs: 100 }),
      meta: runMeta(`arm${i}-s${seed}`, 'completed'),
      records,
    });
  }
}
const set = await readRuns(root);
const composed = composeReport(set);

describe('report over 40 runs x 100 epochs', () => {
  bench(
    'readRuns (parse + tables)',
    async () => {
      await readRuns(root);
    },
    { iterations: 5 },
  );
  bench(
    'composeReport (analyses + chart specs)',
    () => {
      composeReport(set);
    },
    { iterations: 5 },
  );
  bench(
    'renderReportHtml',
    () => {
      renderReportHtml({
        title: 'bench',
        generatedAt: '',
        sources: [root],
        findings: [],
        notes: composed.notes,
        charts: composed.charts,
        summary: composed.summary,
        groups: composed.groups,
        runs: set.runs,
        earlyPhase: describeEarlyWindow(composed.earlyWindow),
      });
    },
    { iterations: 5 },
  );
  bench(
    'renderSvg (all charts)',
    async () => {
      for (const chart of composed.charts) await renderSvg(chart.spec);
    },
    { iterations: 3 },
  );
});
