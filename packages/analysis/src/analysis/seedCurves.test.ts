import * as aq from 'arquero';
import { describe, expect, it } from 'vitest';
import { seedCurves } from './seedCurves.js';

describe('seed curves', () => {
  it('averages across seeds per epoch with the sample sd, and counts seeds per point', () => {
    const t = aq.from(
      [
        { runId: 's1', group: 'g', epoch: 1, v: 2 },
        { runId: 's2', group: 'g', epoch: 1.00001, v: 4 },
        { runId: 's3', group: 'g', epoch: 1, v: 9 },
        { runId: 's1', group: 'g', epoch: 2, v: 5 },
        { runId: 's2', group: 'g', epoch: 2, v: null },
        { runId: 'x', group: 'h', epoch: 1, v: 7 },
      ],
      ['runId', 'group', 'epoch', 'v'],
    );
    const c = seedCurves(t, 'v');
    // epoch 1 of g: values 2, 4, 9 → mean 5, Σ(v−5)² = 9 + 1 + 16 = 26, sd = √13.
    expect(c[0]).toMatchObject({ group: 'g', epoch: 1, mean: 5, n: 3 });
    expect(c[0]!.sd).toBeCloseTo(Math.sqrt(13), 12);
    expect(c[0]!.stdErr).toBeCloseTo(Math.sqrt(13 / 3), 12);
    expect(c[1]).toEqual({ group: 'g', epoch: 2, mean: 5, sd: null, stdErr: null, n: 1 });
    expect(c[2]).toMatchObject({ group: 'h', epoch: 1, mean: 7, n: 1 });
    expect(c).toHaveLength(3);
  });
});
