import { describe, expect, it } from 'vitest';
import { resolveRunIndex } from './run-index.js';

describe('resolveRunIndex', () => {
  it('takes --index first, then JOB_COMPLETION_INDEX (Kubernetes), then SLURM_ARRAY_TASK_ID', () => {
    const env = { JOB_COMPLETION_INDEX: '2', SLURM_ARRAY_TASK_ID: '3' };
    expect(resolveRunIndex('1', env, 4, 'd')).toEqual({ index: 1, from: '--index' });
    expect(resolveRunIndex(undefined, env, 4, 'd')).toEqual({ index: 2, from: 'JOB_COMPLETION_INDEX' });
    expect(resolveRunIndex(undefined, { SLURM_ARRAY_TASK_ID: '3' }, 4, 'd')).toEqual({
      index: 3,
      from: 'SLURM_ARRAY_TASK_ID',
    });
    expect(
      resolveRunIndex(undefined, { JOB_COMPLETION_INDEX: '', SLURM_ARRAY_TASK_ID: '0' }, 4, 'd'),
    ).toEqual({
      index: 0,
      from: 'SLURM_ARRAY_TASK_ID',
    });
  });

  it('names the range, the plan and the fix when the index is missing or out of range', () => {
    expect(() => resolveRunIndex(undefined, {}, 4, 'sweeps/a')).toThrow(
      /no run index: pass --index I \(0 to 3 for sweeps\/a\), or run under an engine that sets JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID/,
    );
    expect(() => resolveRunIndex('4', {}, 4, 'sweeps/a')).toThrow(
      /run index "4" \(from --index\) is out of range: the plan sweeps\/a has runs 0 to 3/,
    );
    expect(() => resolveRunIndex(undefined, { SLURM_ARRAY_TASK_ID: '4' }, 4, 'p')).toThrow(
      /Submit the array as --array=0-3/,
    );
    expect(() => resolveRunIndex(undefined, { JOB_COMPLETION_INDEX: '9' }, 4, 'p')).toThrow(
      /Set the Job's completions to 4/,
    );
    for (const bad of ['-1', '1.5', 'one', ''])
      expect(() => resolveRunIndex(bad, {}, 4, 'p')).toThrow(/out of range/);
  });
});
