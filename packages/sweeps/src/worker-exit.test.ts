import { describe, expect, it } from 'vitest';
import { classifyWorkerExit, type WorkerExit } from './worker-exit.js';

const exit = (overrides: Partial<WorkerExit>): WorkerExit => ({
  code: 0,
  signal: null,
  meta: undefined,
  heldElsewhere: undefined,
  aborted: false,
  tail: ['line 1', 'line 2'],
  command: ['node', 'bin.js'],
  ...overrides,
});

describe('classifyWorkerExit: what became of a run, from how its worker ended', () => {
  const cases: [string, Partial<WorkerExit>, ReturnType<typeof classifyWorkerExit>][] = [
    ['exit 0, meta completed', { meta: { status: 'completed' } }, { status: 'completed' }],
    [
      'exit 0, meta diverged: a result, with its error',
      { meta: { status: 'diverged', error: { message: 'loss became NaN at step 7' } } },
      { status: 'diverged', error: 'loss became NaN at step 7' },
    ],
    ['exit 0 without a finished meta (the worker skipped it)', {}, { status: 'skipped' }],
    [
      'the worker could not start',
      { code: null, spawnError: 'spawn node ENOENT' },
      { status: 'failed', error: 'could not start the worker (node bin.js): spawn node ENOENT' },
    ],
    [
      'exit 2 while another live process holds the lock',
      { code: 2, heldElsewhere: 'fisherlab sweep run, host b pid 7' },
      { status: 'skipped', error: 'running elsewhere (fisherlab sweep run, host b pid 7)' },
    ],
    [
      'exit 2, and the run completed elsewhere meanwhile',
      { code: 2, meta: { status: 'completed' } },
      { status: 'skipped', error: 'running elsewhere (it completed there)' },
    ],
    [
      'exit 130 (checkpointed after SIGTERM)',
      { code: 130, meta: { status: 'interrupted' } },
      { status: 'interrupted' },
    ],
    ['exit 130 before it wrote anything', { code: 130 }, { status: 'interrupted' }],
    [
      'killed by the SIGTERM the pool sent, before it could handle it',
      { code: null, signal: 'SIGTERM', aborted: true },
      { status: 'interrupted' },
    ],
    [
      'killed by a signal the pool did not send',
      { code: null, signal: 'SIGKILL' },
      { status: 'failed', error: 'worker was killed by SIGKILL; last output:\n    line 1\n    line 2' },
    ],
    [
      'failed, with the error the run recorded',
      { code: 2, meta: { status: 'failed', error: { message: "dataset 'fashion-mnist' not found" } } },
      { status: 'failed', error: "dataset 'fashion-mnist' not found" },
    ],
    [
      'exit 1 with no record: the last lines of output',
      { code: 1, tail: ['a', 'b', 'c', 'd', 'e', 'f'] },
      {
        status: 'failed',
        error: 'worker exited with code 1; last output:\n    b\n    c\n    d\n    e\n    f',
      },
    ],
  ];
  it.each(cases)('%s', (_what, input, expected) => {
    expect(classifyWorkerExit(exit(input))).toEqual(expected);
  });
});
