import * as aq from 'arquero';
import { describe, expect, it } from 'vitest';
import { finalCurvature } from './curvature.js';

describe('final curvature', () => {
  it('takes the last measured Tr(H) (with its standard error) and top eigenvalue separately', () => {
    const t = aq.from(
      [
        { runId: 'a', step: 300, epoch: 3, traceH: null, traceHStdErr: null, topEigenvalue: 42 },
        { runId: 'a', step: 100, epoch: 1, traceH: 500, traceHStdErr: 20, topEigenvalue: 90 },
        { runId: 'a', step: 200, epoch: 2, traceH: 300, traceHStdErr: 15, topEigenvalue: null },
        { runId: 'b', step: 100, epoch: 1, traceH: 7, traceHStdErr: 1, topEigenvalue: null },
      ],
      ['runId', 'step', 'epoch', 'traceH', 'traceHStdErr', 'topEigenvalue'],
    );
    const c = finalCurvature(t);
    expect(c.get('a')).toEqual({ runId: 'a', epoch: 3, traceH: 300, traceHStdErr: 15, topEigenvalue: 42 });
    expect(c.get('b')).toEqual({ runId: 'b', epoch: 1, traceH: 7, traceHStdErr: 1, topEigenvalue: null });
  });
});
