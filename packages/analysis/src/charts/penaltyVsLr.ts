import { traceFRows } from '../analysis/fisherTrace.js';
import type { PenaltyFamily } from '../analysis/penaltyArms.js';
import { type RunSummary, summarizeGroups } from '../analysis/runSummary.js';
import { seedCurves } from '../analysis/seedCurves.js';
import type { RunTables } from '../read/readRuns.js';
import {
  CHART_CONFIG,
  type ChartOutcome,
  curvePanel,
  curveRows,
  PANEL_HEIGHT,
  type PanelSpec,
  VEGA_LITE_SCHEMA,
} from './chart.js';

/**
 * Figure 2, "Penalty vs learning rate": per family of runs, test accuracy and Tr(F) during training
 * for the small lr, the tuned lr and the small lr with the Fisher penalty (and GradNorm when present),
 * plus each arm's test accuracy at the end of training (the mean of its last evaluations; mean ± sd
 * across finished seeds) as a dot on an axis fitted to the values: bars from zero would hide
 * differences of a point or two.
 */
export function penaltyVsLrChart(
  tables: RunTables,
  families: readonly PenaltyFamily[],
  summaries: readonly RunSummary[],
): ChartOutcome {
  if (families.length === 0) {
    return {
      chart: null,
      notes: [
        'Penalty vs learning rate: no runs that differ only in learning rate and penalty (e.g. small lr, tuned lr, small lr + Fisher penalty), so Figure 2 is not drawn.',
      ],
    };
  }
  const notes: string[] = [];
  const testCurves = seedCurves(tables.evals, 'testAccuracy');
  const traceCurves = seedCurves(traceFRows(tables.fisher), 'traceF');
  const groupStats = new Map(summarizeGroups(summaries).map((g) => [g.group, g]));
  const rows: PanelSpec[] = families.map((family) => {
    const armOf = new Map(family.arms.map((a) => [a.group, a.label]));
    const seriesOf = (g: string) => armOf.get(g) ?? null;
    const finals = family.arms.flatMap((a) => {
      const s = groupStats.get(a.group)?.tailTestAccuracy;
      if (!s) return [];
      const sd = s.sd ?? 0;
      return [
        { series: a.label, role: a.role, mean: s.mean, lower: s.mean - sd, upper: s.mean + sd, n: s.n },
      ];
    });
    const missing = family.arms.filter((a) => !finals.some((f) => f.series === a.label));
    for (const a of missing)
      notes.push(
        `Penalty vs learning rate (${family.label}): arm "${a.label}" has no finished run with a test accuracy.`,
      );
    const bars: PanelSpec = {
      title: 'test accuracy at the end',
      height: PANEL_HEIGHT,
      data: { values: finals },
      layer: [
        {
          mark: { type: 'point', filled: true, size: 90 },
          encoding: {
            y: { field: 'series', type: 'nominal', title: null, sort: null, axis: { labelLimit: 240 } },
            x: {
              field: 'mean',
              type: 'quantitative',
              title: 'test accuracy, mean of last evaluations (mean ± sd over seeds)',
              scale: { zero: false },
              axis: { format: '.0%', tickCount: 5 },
            },
            color: { field: 'series', type: 'nominal', title: 'arm' },
            tooltip: [
              { field: 'series', title: 'arm' },
              { field: 'mean', type: 'quantitative', format: '.4f' },
              { field: 'n', type: 'quantitative', title: 'seeds' },
            ],
          },
        },
        {
          mark: { type: 'rule', color: 'black' },
          encoding: {
            y: { field: 'series', type: 'nominal', sort: null },
            x: { field: 'lower', type: 'quantitative' },
            x2: { field: 'upper' },
          },
        },
      ],
    };
    return {
      title: family.label,
      hconcat: [
        curvePanel(curveRows(testCurves, seriesOf), {
          title: 'test accuracy',
          yTitle: 'test accuracy',
          colorTitle: 'arm',
          yDomain: [0, 1],
        }),
        curvePanel(curveRows(traceCurves, seriesOf, true), {
          title: 'Tr(F)',
          yTitle: 'Tr(F) (log scale)',
          colorTitle: 'arm',
          log: true,
        }),
        bars,
      ],
    };
  });
  return {
    chart: {
      id: 'penalty-vs-lr',
      title: 'Fisher penalty vs learning rate',
      spec: {
        $schema: VEGA_LITE_SCHEMA,
        // Arm labels are long: the legend goes below so the three panels fit a page's width.
        config: { ...CHART_CONFIG, legend: { ...CHART_CONFIG.legend, orient: 'bottom', columns: 2 } },
        title: {
          text: 'Small learning rate, tuned learning rate, and small learning rate + penalty',
          subtitle: 'mean across seeds, ±1 sd',
        },
        vconcat: rows,
      },
    },
    notes,
  };
}
