import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { PoolEvent, PoolRunResult } from './local-pool.js';
import type { PlannedRun } from './plan.js';
import { createPoolDisplay, formatPoolSummary } from './pool-display.js';

const run = (index: number, name: string) => ({ index, id: `id${index}`, name }) as PlannedRun;
const ended = (index: number, status: PoolRunResult['status'], error?: string): PoolEvent => ({
  kind: 'end',
  result: {
    index,
    id: `id${index}`,
    name: `r${index}`,
    status,
    exitCode: status === 'failed' ? 2 : 0,
    seconds: 61,
    log: `/s/runs/id${index}/worker.log`,
    ...(error ? { error } : {}),
  },
});

function capture(interactive: boolean) {
  const stream = new PassThrough() as unknown as NodeJS.WriteStream & PassThrough;
  let text = '';
  stream.on('data', (d: Buffer) => {
    text += d.toString();
  });
  const display = createPoolDisplay({ sweep: 's', total: 3 }, stream, interactive);
  return { display, text: () => text };
}

describe('sweep local display', () => {
  const events: PoolEvent[] = [
    { kind: 'start', index: 0, run: run(0, 'lr=0.1'), worker: 1 },
    { kind: 'start', index: 1, run: run(1, 'lr=0.01'), worker: 2 },
    { kind: 'progress', index: 0, step: 5, totalSteps: 10, figures: { loss: 0.51234, traceF: 123.4 } },
    ended(0, 'completed'),
    ended(1, 'failed', 'dataset missing'),
  ];

  it('prints one line per start and end where there is no terminal', () => {
    const { display, text } = capture(false);
    for (const e of events) display.onEvent(e);
    display.done();
    expect(text()).toBe(
      '[w1] start #0 id0 lr=0.1\n[w2] start #1 id1 lr=0.01\ncompleted #0 id0 r0 (1m01s)\nFAILED #1 id1 r1 (1m01s)\n',
    );
  });

  it('on a terminal, redraws a block of one line per worker under a tally', async () => {
    const { display, text } = capture(true);
    for (const e of events.slice(0, 2)) display.onEvent(e);
    await new Promise((resolve) => setTimeout(resolve, 300)); // progress redraws at most every 250 ms
    display.onEvent(events[2]!);
    const block = text();
    expect(block).toContain('sweep s: 0 completed, 0 diverged, 0 failed, 2 running, of 3');
    expect(block).toMatch(/w1 #0 \[########\.{8}\] {2}50% \S+ {2}lr=0\.1 {2}loss 0\.512 {2}Tr\(F\) 123/);
    // the block is moved over (cursor up its height) before it is drawn again
    expect(block).toContain('\x1b[3F');
    for (const e of events.slice(3)) display.onEvent(e);
    expect(text()).toContain('FAILED #1 id1 r1 (1m01s)\n');
    expect(text()).toContain('sweep s: 1 completed, 0 diverged, 1 failed, 0 running, of 3');
  });

  it('lists failed runs with their error (indented) and log, and says how to resume', () => {
    const summary = {
      results: [
        (ended(0, 'completed') as { result: PoolRunResult }).result,
        (ended(1, 'failed', 'line one\nline two') as { result: PoolRunResult }).result,
      ],
      skipped: [{ index: 2, id: 'id2', reason: 'already completed' }],
      interrupted: false,
    };
    expect(formatPoolSummary(summary, 'sweeps/s')).toBe(
      [
        'ran 2: 1 completed, 0 diverged, 1 failed, 0 interrupted; 1 not started (done already, running elsewhere or damaged)',
        '',
        'Failed runs:',
        '  #1 id1 r1',
        '    line one',
        '    line two',
        '    log: /s/runs/id1/worker.log',
        '',
        'Fix the cause and run `fisherlab sweep local sweeps/s` again: finished runs are skipped, the rest resume.',
      ].join('\n'),
    );
  });
});
