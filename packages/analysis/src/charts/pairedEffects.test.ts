import { describe, expect, it } from 'vitest';
import { pairedEffect } from '../analysis/pairedEffects.js';
import { renderSvg } from '../report/svg.js';
import { pairedEffectsChart } from './pairedEffects.js';

const bySeed = (values: number[]) => new Map(values.map((v, i) => [i, v]));

describe('paired effects chart', () => {
  const recovered = pairedEffect(bySeed([0.84, 0.85, 0.83]), bySeed([0.82, 0.82, 0.82]), 'positive');
  const trace = pairedEffect(bySeed([200, 250, 180]), bySeed([600, 900, 700]), 'negative');

  it('draws one row per comparison on its own axis, in the unit of its difference', async () => {
    const { chart, notes } = pairedEffectsChart(
      [
        { label: 'test accuracy: FP − small lr', unit: 'points', effect: recovered, scale: 100 },
        { label: 'max Tr(F): FP − small lr', unit: 'Tr(F)', effect: trace },
      ],
      'Effects',
    );
    expect(notes).toEqual([]);
    const spec = chart!.spec as unknown as { vconcat: { layer: { data: { values: unknown[] } }[] }[] };
    expect(spec.vconcat).toHaveLength(2);
    // Points in accuracy points (×100), not fractions.
    const dots = spec.vconcat[0]!.layer[3]!.data.values as { value: number }[];
    expect(dots.map((d) => Math.round(d.value))).toEqual([2, 3, 1]);
    const svg = await renderSvg(chart!.spec);
    expect(svg).toContain('test accuracy: FP − small lr');
    expect(svg).toContain('3 seeds');
    // Three seed dots per row.
    expect((svg.match(/<path[^>]*aria-roledescription="point"/g) ?? []).length).toBe(6);
  });

  it('says why when there is nothing to draw', () => {
    expect(pairedEffectsChart([], 'Effects')).toEqual({
      chart: null,
      notes: [expect.stringMatching(/no comparison/)],
    });
  });
});
