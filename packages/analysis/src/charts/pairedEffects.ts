import type { PairedEffect } from '../analysis/pairedEffects.js';
import { CHART_CONFIG, type ChartOutcome, type PanelSpec, VEGA_LITE_SCHEMA } from './chart.js';

/** One comparison to draw: a paired effect with what it compares and the unit of its axis. */
export interface LabelledEffect {
  /** What is compared, e.g. "test accuracy: small lr + FP − small lr". */
  label: string;
  /** Axis title, e.g. "difference in test accuracy (points)". */
  unit: string;
  effect: PairedEffect;
  /** Multiplies values for display (100 turns accuracy fractions into points). Default 1. */
  scale?: number;
}

/**
 * Paired effects across seeds, one row per comparison: each seed's difference as a dot, the mean as
 * a tick, its 95% interval as a bar, and zero as a grey rule. Each row has its own axis, in the
 * unit of its difference, so a 2-point effect is not flattened on a 0-100% scale.
 */
export function pairedEffectsChart(effects: readonly LabelledEffect[], title: string): ChartOutcome {
  if (effects.length === 0) {
    return { chart: null, notes: ['Paired effects: no comparison had two arms sharing a seed.'] };
  }
  const rows: PanelSpec[] = effects.map(({ label, unit, effect, scale = 1 }) => {
    const seeds = effect.perSeed.map((p) => ({ seed: p.seed, value: p.difference * scale }));
    const summary = [
      {
        mean: effect.mean * scale,
        lower: effect.ci95 === null ? null : effect.ci95[0] * scale,
        upper: effect.ci95 === null ? null : effect.ci95[1] * scale,
        zero: 0,
      },
    ];
    const values = [...seeds.map((s) => s.value), ...(effect.ci95 ?? []).map((v) => v * scale), 0];
    const span = Math.max(...values) - Math.min(...values) || 1;
    const domain = [Math.min(...values) - 0.08 * span, Math.max(...values) + 0.08 * span];
    const x = { type: 'quantitative' as const, scale: { domain, nice: false, zero: false } };
    return {
      title: { text: label, anchor: 'start', fontSize: 12 },
      width: 520,
      height: 44,
      layer: [
        {
          data: { values: summary },
          mark: { type: 'rule', color: '#999', strokeDash: [3, 3] },
          encoding: { x: { ...x, field: 'zero', title: unit } },
        },
        {
          data: { values: summary.filter((s) => s.lower !== null) },
          mark: { type: 'rule', strokeWidth: 6, opacity: 0.35, color: '#1f77b4' },
          encoding: { x: { ...x, field: 'lower' }, x2: { field: 'upper' } },
        },
        {
          data: { values: summary },
          mark: { type: 'tick', thickness: 3, size: 30, color: '#1f77b4' },
          encoding: {
            x: { ...x, field: 'mean' },
            tooltip: [
              { field: 'mean', type: 'quantitative', format: '.3f', title: 'mean difference' },
              { field: 'lower', type: 'quantitative', format: '.3f', title: '95% lower' },
              { field: 'upper', type: 'quantitative', format: '.3f', title: '95% upper' },
            ],
          },
        },
        {
          data: { values: seeds },
          mark: { type: 'point', filled: true, size: 45, color: '#d62728', opacity: 0.8 },
          encoding: {
            x: { ...x, field: 'value' },
            tooltip: [
              { field: 'seed', type: 'quantitative' },
              { field: 'value', type: 'quantitative', format: '.3f', title: 'difference' },
            ],
          },
        },
      ],
    } as PanelSpec;
  });
  const n = Math.max(...effects.map((e) => e.effect.n));
  return {
    chart: {
      id: 'paired-effects',
      title,
      spec: {
        $schema: VEGA_LITE_SCHEMA,
        config: CHART_CONFIG,
        title: {
          text: title,
          subtitle: `per-seed differences (red dots), their mean (tick) and 95% t-interval (bar); ${n} seeds; dashed: no effect`,
        },
        vconcat: rows,
        resolve: { scale: { x: 'independent' } },
      },
    },
    notes: [],
  };
}
