import type { TopLevelSpec } from 'vega-lite';
import type { SeedCurvePoint } from '../analysis/seedCurves.js';

/** One figure of the report: a Vega-Lite spec with its data inlined. */
export interface Chart {
  /** Stable id, also the SVG file name ('fisher-explosion' → fisher-explosion.svg). */
  id: string;
  title: string;
  spec: TopLevelSpec;
}

/** A chart builder's answer: the chart, or null with notes saying what was missing. */
export interface ChartOutcome {
  chart: Chart | null;
  notes: string[];
}

/** A panel of a concatenated figure. */
export type PanelSpec = Extract<TopLevelSpec, { hconcat: unknown }>['hconcat'][number];

export const PANEL_WIDTH = 260;
/** Shared look: group labels name what differs between groups and can be long, so legends get room. */
export const CHART_CONFIG = {
  legend: { labelLimit: 360, titleLimit: 360, symbolOpacity: 1 },
  axis: { labelFontSize: 11, titleFontSize: 12 },
};
export const VEGA_LITE_SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
export const PANEL_HEIGHT = 200;

/** A curve point ready to plot: mean with a ±1 sd band (band bounds null where undrawable). */
export interface CurveRow {
  series: string;
  epoch: number;
  mean: number;
  lower: number | null;
  upper: number | null;
  n: number;
  [extra: string]: string | number | null;
}

/**
 * Seed curves as plot rows. On a log axis a band reaching zero or below cannot be drawn, so its
 * bounds are null there (the mean line still is).
 */
export function curveRows(
  points: readonly SeedCurvePoint[],
  seriesOf: (group: string) => string | null,
  log = false,
): CurveRow[] {
  const rows: CurveRow[] = [];
  for (const p of points) {
    const series = seriesOf(p.group);
    if (series === null || (log && p.mean <= 0)) continue;
    const lower = p.sd === null ? null : p.mean - p.sd;
    const drawable = lower !== null && (!log || lower > 0);
    rows.push({
      series,
      epoch: p.epoch,
      mean: p.mean,
      lower: drawable ? lower : null,
      upper: drawable ? p.mean + p.sd! : null,
      n: p.n,
    });
  }
  return rows;
}

export interface CurvePanelOptions {
  title: string;
  yTitle: string;
  colorTitle: string;
  log?: boolean;
  /** Panel size in pixels (default PANEL_WIDTH x PANEL_HEIGHT). */
  width?: number;
  height?: number;
  /** Fixed y domain, e.g. [0, 1] for accuracies. */
  yDomain?: [number, number];
  /** Field distinguishing line styles (solid/dotted), with its domain in order solid, dotted. */
  dash?: { field: string; title: string; domain: [string, string] };
}

/** Mean line across seeds with a ±1 sd band, x = epoch. */
export function curvePanel(rows: readonly CurveRow[], o: CurvePanelOptions): PanelSpec {
  const scale = o.log ? { type: 'log' as const } : o.yDomain ? { domain: o.yDomain } : { zero: false };
  const color = { field: 'series', type: 'nominal' as const, title: o.colorTitle };
  const strokeDash = o.dash
    ? {
        strokeDash: {
          field: o.dash.field,
          type: 'nominal' as const,
          title: o.dash.title,
          scale: {
            domain: o.dash.domain,
            range: [
              [1, 0],
              [2, 3],
            ],
          },
        },
      }
    : {};
  return {
    title: o.title,
    width: o.width ?? PANEL_WIDTH,
    height: o.height ?? PANEL_HEIGHT,
    data: { values: rows as CurveRow[] },
    layer: [
      {
        transform: [{ filter: 'datum.lower != null' }],
        mark: { type: 'area', opacity: 0.15 },
        encoding: {
          x: { field: 'epoch', type: 'quantitative' },
          y: { field: 'lower', type: 'quantitative', scale },
          y2: { field: 'upper' },
          color,
          ...(o.dash ? { detail: { field: o.dash.field } } : {}),
        },
      },
      {
        // Points on short curves; not with dashes, where the legend must show the dash pattern.
        mark: { type: 'line', point: !o.dash && rows.length <= 60 },
        encoding: {
          x: { field: 'epoch', type: 'quantitative', title: 'epoch' },
          y: { field: 'mean', type: 'quantitative', title: o.yTitle, scale },
          color,
          ...strokeDash,
          tooltip: [
            { field: 'series', title: o.colorTitle },
            ...(o.dash ? [{ field: o.dash.field, title: o.dash.title }] : []),
            { field: 'epoch', type: 'quantitative' },
            { field: 'mean', type: 'quantitative', format: '.4~g', title: o.yTitle },
            { field: 'n', type: 'quantitative', title: 'seeds' },
          ],
        },
      },
    ],
  };
}

export function fmt(value: number | null | undefined, digits = 3): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  return Math.abs(value) >= 1e4 || (Math.abs(value) < 1e-3 && value !== 0)
    ? value.toExponential(2)
    : Number(value.toPrecision(digits)).toString();
}
