import type { ColumnTable } from 'arquero';
import * as aq from 'arquero';

export interface SeedCurvePoint {
  group: string;
  epoch: number;
  /** Mean across the group's seeds that measured this epoch. */
  mean: number;
  /** Sample standard deviation across seeds (n − 1); null with one seed. */
  sd: number | null;
  /** Standard error of the mean, sd / √n; null with one seed. */
  stdErr: number | null;
  /** Seeds (runs) behind the point: a run still going or cut off contributes only the epochs it reached. */
  n: number;
}

/**
 * A curve per run group: `column` averaged across the group's runs (seeds) at each epoch, with the
 * spread. Epochs are matched to 4 decimals, so runs sharing a logging schedule line up. Null values
 * (not measured, or non-finite) are left out.
 */
export function seedCurves(table: ColumnTable, column: string): SeedCurvePoint[] {
  if (table.numRows() === 0) return [];
  const rows = table
    .params({ column })
    .filter((d: Record<string, unknown>, $: { column: string }) => d[$.column] != null)
    .derive({ epoch: (d: { epoch: number }) => aq.op.round(d.epoch * 1e4) / 1e4 })
    .groupby('group', 'epoch')
    .rollup({
      mean: (d: Record<string, number>, $: { column: string }) => aq.op.mean(d[$.column]),
      sd: (d: Record<string, number>, $: { column: string }) => aq.op.stdev(d[$.column]),
      n: aq.op.count(),
    })
    .orderby('group', 'epoch')
    .objects() as { group: string; epoch: number; mean: number; sd: number | undefined; n: number }[];
  return rows.map((r) => {
    const sd = r.n >= 2 && r.sd !== undefined ? r.sd : null;
    return {
      group: r.group,
      epoch: r.epoch,
      mean: r.mean,
      sd,
      stdErr: sd === null ? null : sd / Math.sqrt(r.n),
      n: r.n,
    };
  });
}
