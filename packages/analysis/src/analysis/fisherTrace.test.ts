import * as aq from 'arquero';
import { describe, expect, it } from 'vitest';
import { maxTraceF, traceFRows } from './fisherTrace.js';

// A hand-made fisher table: run a peaks at epoch 1 early and again later; run b logs two estimators.
const fisher = aq.from(
  [
    {
      runId: 'a',
      group: 'g',
      step: 0,
      epoch: 0,
      estimator: 'minibatch',
      traceF: 10,
      traceFStdErr: 1,
      examples: 256,
    },
    {
      runId: 'a',
      group: 'g',
      step: 50,
      epoch: 0.5,
      estimator: 'minibatch',
      traceF: 80,
      traceFStdErr: 4,
      examples: 256,
    },
    {
      runId: 'a',
      group: 'g',
      step: 100,
      epoch: 1,
      estimator: 'minibatch',
      traceF: 120,
      traceFStdErr: 6,
      examples: 256,
    },
    {
      runId: 'a',
      group: 'g',
      step: 150,
      epoch: 1.5,
      estimator: 'minibatch',
      traceF: 90,
      traceFStdErr: 5,
      examples: 256,
    },
    {
      runId: 'a',
      group: 'g',
      step: 400,
      epoch: 4,
      estimator: 'minibatch',
      traceF: 300,
      traceFStdErr: 9,
      examples: 256,
    },
    {
      runId: 'b',
      group: 'g',
      step: 0,
      epoch: 0,
      estimator: 'minibatch',
      traceF: 999,
      traceFStdErr: 50,
      examples: 256,
    },
    {
      runId: 'b',
      group: 'g',
      step: 0,
      epoch: 0,
      estimator: 'exact',
      traceF: 20,
      traceFStdErr: 2,
      examples: 64,
    },
    {
      runId: 'b',
      group: 'g',
      step: 100,
      epoch: 1,
      estimator: 'exact',
      traceF: 40,
      traceFStdErr: 3,
      examples: 64,
    },
    {
      runId: 'b',
      group: 'g',
      step: 100,
      epoch: 1,
      estimator: 'empirical',
      traceF: 5000,
      traceFStdErr: 3,
      examples: 64,
    },
    {
      runId: 'c',
      group: 'g',
      step: 0,
      epoch: 0,
      estimator: 'empirical',
      traceF: 7,
      traceFStdErr: 1,
      examples: 64,
    },
    {
      runId: 'd',
      group: 'g',
      step: 0,
      epoch: 0,
      estimator: 'minibatch',
      traceF: null,
      traceFStdErr: null,
      examples: 64,
    },
  ],
  ['runId', 'group', 'step', 'epoch', 'estimator', 'traceF', 'traceFStdErr', 'examples'],
);

describe('Tr(F) maxima', () => {
  it('takes the maximum over all epochs with its standard error and epoch', () => {
    expect(maxTraceF(fisher).get('a')).toEqual({
      runId: 'a',
      value: 300,
      stdErr: 9,
      epoch: 4,
      estimator: 'minibatch',
    });
  });
  it('takes the early-phase maximum over epochs ≤ E only', () => {
    expect(maxTraceF(fisher, 1).get('a')?.value).toBe(120);
    expect(maxTraceF(fisher, 0.5).get('a')?.value).toBe(80);
    expect(maxTraceF(fisher, 2).get('a')?.epoch).toBe(1);
  });
  it('prefers the exact estimator and never uses the empirical Fisher as Tr(F)', () => {
    expect(maxTraceF(fisher).get('b')?.value).toBe(40);
    expect(maxTraceF(fisher).has('c')).toBe(false);
    expect(maxTraceF(fisher).has('d')).toBe(false);
    expect(traceFRows(fisher).numRows()).toBe(7);
  });
});
