import { memorizationCurves } from '../analysis/memorization.js';
import type { RunTables } from '../read/readRuns.js';
import {
  CHART_CONFIG,
  type ChartOutcome,
  type CurveRow,
  curvePanel,
  curveRows,
  PANEL_HEIGHT,
  PANEL_WIDTH,
  VEGA_LITE_SCHEMA,
} from './chart.js';

/**
 * Figure 3, "Memorization": training accuracy on clean examples (solid) and on examples with
 * replaced labels (dotted), one colour per group (with and without the penalty).
 */
export function memorizationChart(tables: RunTables): ChartOutcome {
  const points = memorizationCurves(tables);
  if (points.length === 0) {
    return {
      chart: null,
      notes: [
        'Memorization: no noisy runs found (dataset.noise with a fraction above 0, and evaluations with trainCleanAccuracy/trainNoisyAccuracy), so Figure 3 is not drawn.',
      ],
    };
  }
  const rows: CurveRow[] = [];
  for (const subset of ['clean', 'noisy'] as const) {
    const part = points.filter((p) => p.subset === subset);
    for (const row of curveRows(part, (g) => g)) rows.push({ ...row, subset });
  }
  const notes = points.some((p) => p.subset === 'noisy')
    ? []
    : ['Memorization: no accuracy on the noisy examples was logged; only the clean curves are drawn.'];
  return {
    chart: {
      id: 'memorization',
      title: 'Memorization of noisy labels',
      spec: {
        $schema: VEGA_LITE_SCHEMA,
        config: CHART_CONFIG,
        title: {
          text: 'Training accuracy on clean (solid) and noisy (dotted) examples',
          subtitle: 'mean across seeds, band ±1 sd',
        },
        hconcat: [
          curvePanel(rows, {
            title: 'train accuracy by label subset',
            yTitle: 'train accuracy',
            colorTitle: 'group',
            yDomain: [0, 1],
            width: PANEL_WIDTH * 2,
            height: PANEL_HEIGHT * 1.5,
            dash: { field: 'subset', title: 'examples', domain: ['clean', 'noisy'] },
          }),
        ],
      },
    },
    notes,
  };
}
