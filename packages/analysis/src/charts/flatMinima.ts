import type { ColumnTable } from 'arquero';
import { CHART_CONFIG, type ChartOutcome, PANEL_HEIGHT, PANEL_WIDTH, VEGA_LITE_SCHEMA } from './chart.js';

const MATRIX_TITLES: Record<string, string> = { hessian: 'Hessian', fisher: 'Fisher' };

/**
 * The flat-minima claim read from the runs: each run's top eigenvalues at the end of training
 * (λ₁ large and opaque, the rest smaller and faint) against its final Tr(F), colored by arm (group), one
 * panel per matrix. Sharper minima sit higher; the paper's claim is that arms which kept Tr(F) low
 * early end lower and further left. Input: `topEigenvaluesVsTraceRows`.
 */
export function topEigenvaluesChart(rows: ColumnTable): ChartOutcome {
  const values = (rows.objects() as { finalTraceF: number | null; eigenvalue: number; matrix: string }[])
    .filter((r) => r.finalTraceF !== null && r.finalTraceF > 0 && r.eigenvalue > 0)
    .map((r) => ({ ...r, matrixTitle: MATRIX_TITLES[r.matrix] ?? r.matrix }));
  if (values.length === 0) {
    return {
      chart: null,
      notes: [
        'Top eigenvalues vs final Tr(F): needs runs with `fisherlab curvature --measure top-eigenvalues` records and a Tr(F) estimate.',
      ],
    };
  }
  return {
    chart: {
      id: 'top-eigenvalues-vs-trace',
      title: 'Top eigenvalues at the end of training vs final Tr(F)',
      spec: {
        $schema: VEGA_LITE_SCHEMA,
        config: CHART_CONFIG,
        title: {
          text: 'Top eigenvalues at the end of training vs final Tr(F)',
          subtitle: 'one point per run and rank (λ₁ large); flatter minima sit lower',
        },
        data: { values },
        facet: { column: { field: 'matrixTitle', type: 'nominal', title: null } },
        spec: {
          width: PANEL_WIDTH,
          height: PANEL_HEIGHT,
          mark: { type: 'point', filled: true },
          encoding: {
            x: {
              field: 'finalTraceF',
              type: 'quantitative',
              scale: { type: 'log' },
              title: 'final Tr(F) (log)',
            },
            y: {
              field: 'eigenvalue',
              type: 'quantitative',
              scale: { type: 'log' },
              title: 'eigenvalue (log)',
            },
            color: { field: 'group', type: 'nominal', title: 'arm' },
            opacity: { condition: { test: 'datum.rank === 1', value: 1 }, value: 0.4 },
            size: { condition: { test: 'datum.rank === 1', value: 80 }, value: 30 },
            tooltip: [
              { field: 'name', title: 'run' },
              { field: 'group', title: 'arm' },
              { field: 'rank', type: 'quantitative', title: 'k' },
              { field: 'eigenvalue', type: 'quantitative', format: '.4~g', title: 'λ_k' },
              { field: 'finalTraceF', type: 'quantitative', format: '.4~g', title: 'final Tr(F)' },
              { field: 'epoch', type: 'quantitative', format: '.2f' },
            ],
          },
        },
      },
    },
    notes: [],
  };
}
