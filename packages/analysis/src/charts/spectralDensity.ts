import type { ColumnTable } from 'arquero';
import { CHART_CONFIG, type ChartOutcome, PANEL_HEIGHT, PANEL_WIDTH, VEGA_LITE_SCHEMA } from './chart.js';

const MATRIX_TITLES: Record<string, string> = { hessian: 'Hessian', fisher: 'Fisher' };

/**
 * The spectral density of the Hessian and of the Fisher at the end of training (stochastic Lanczos
 * quadrature, Gaussian-broadened, PyHessian's plot): density on a log axis against eigenvalue, one
 * line per run, one panel per matrix. Input: `spectralDensityRows`.
 */
export function spectralDensityChart(rows: ColumnTable): ChartOutcome {
  const values = (rows.objects() as { density: number | null; matrix: string }[])
    .filter((r) => r.density !== null && r.density > 0)
    .map((r) => ({ ...r, matrixTitle: MATRIX_TITLES[r.matrix] ?? r.matrix }));
  // A log axis over six decades below the highest peak: the Gaussian tails below it are clipped.
  const floor = Math.max(...values.map((r) => r.density as number)) * 1e-6;
  if (values.length === 0) {
    return {
      chart: null,
      notes: [
        'Spectral density: no density measured (run `fisherlab curvature --measure density` on a run).',
      ],
    };
  }
  return {
    chart: {
      id: 'spectral-density',
      title: 'Spectral density of the Hessian and the Fisher',
      spec: {
        $schema: VEGA_LITE_SCHEMA,
        config: CHART_CONFIG,
        title: {
          text: 'Spectral density at the last measured checkpoint',
          subtitle: 'stochastic Lanczos quadrature, Gaussian-broadened; log density, six decades',
        },
        data: { values },
        facet: { column: { field: 'matrixTitle', type: 'nominal', title: null } },
        resolve: { scale: { x: 'independent' } },
        spec: {
          width: PANEL_WIDTH,
          height: PANEL_HEIGHT,
          mark: { type: 'line', strokeWidth: 1.2, clip: true },
          encoding: {
            x: { field: 'eigenvalue', type: 'quantitative', title: 'eigenvalue' },
            y: {
              field: 'density',
              type: 'quantitative',
              scale: { type: 'log', domainMin: floor },
              title: 'density (log scale)',
            },
            color: { field: 'name', type: 'nominal', title: 'run' },
            detail: { field: 'runId' },
          },
        },
      },
    },
    notes: [],
  };
}
