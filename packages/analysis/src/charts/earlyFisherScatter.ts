import type { EarlyFisherVsAccuracy } from '../analysis/earlyFisher.js';
import { CHART_CONFIG, type ChartOutcome, PANEL_HEIGHT, PANEL_WIDTH, VEGA_LITE_SCHEMA } from './chart.js';

/**
 * Early-phase Tr(F) (max over epochs ≤ E) against final test accuracy, one point per finished run,
 * with Pearson (on log10 Tr(F)) and Spearman correlations and their standard errors in the title.
 */
export function earlyFisherScatterChart(result: EarlyFisherVsAccuracy, earlyPhase: string): ChartOutcome {
  if (result.points.length < 2) {
    return {
      chart: null,
      notes: [
        `Early Tr(F) vs test accuracy: needs at least 2 finished runs with Tr(F) in the early phase (${earlyPhase}) and a test accuracy; found ${result.points.length}.`,
      ],
    };
  }
  const corr = (name: string, c: EarlyFisherVsAccuracy['pearsonLog']) =>
    c === null
      ? `${name} undefined`
      : `${name} = ${c.value.toFixed(2)}${c.stdErr === null ? '' : ` ± ${c.stdErr.toFixed(2)}`}`;
  const line = `${corr('Pearson r (log₁₀ Tr(F))', result.pearsonLog)} · ${corr('Spearman ρ', result.spearman)} · n = ${result.points.length} runs`;
  const notes =
    result.points.length < 5
      ? [`Early Tr(F) vs test accuracy: only ${result.points.length} runs, so the correlations are rough.`]
      : [];
  return {
    chart: {
      id: 'early-fisher-vs-accuracy',
      title: 'Early Tr(F) vs final test accuracy',
      spec: {
        $schema: VEGA_LITE_SCHEMA,
        config: CHART_CONFIG,
        title: {
          text: [`Early-phase Tr(F) (max over ${earlyPhase}) vs final test accuracy`, line],
        },
        width: PANEL_WIDTH * 1.5,
        height: PANEL_HEIGHT * 1.5,
        data: { values: result.points.map((p) => ({ ...p })) },
        mark: { type: 'point', filled: true, size: 70 },
        encoding: {
          x: {
            field: 'earlyMaxTraceF',
            type: 'quantitative',
            scale: { type: 'log' },
            title: `early max Tr(F) (log scale)`,
          },
          y: {
            field: 'finalTestAccuracy',
            type: 'quantitative',
            scale: { zero: false },
            title: 'final test accuracy',
          },
          color: { field: 'group', type: 'nominal', title: 'group' },
          tooltip: [
            { field: 'name', title: 'run' },
            { field: 'group' },
            { field: 'earlyMaxTraceF', type: 'quantitative', format: '.4~g', title: 'early max Tr(F)' },
            { field: 'finalTestAccuracy', type: 'quantitative', format: '.4f', title: 'final test accuracy' },
          ],
        },
      },
    },
    notes,
  };
}
