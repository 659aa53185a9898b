import { formatDuration } from '@fisherlab/training';
import type { PoolEvent, PoolRunResult, PoolSummary } from './local-pool.js';

/**
 * How a pool looks to a person: plain event lines (logs, CI) or, on a terminal, a redrawn block,
 * and the summary at the end. Written here because it is a few lines of text: a progress-bar
 * library would add a dependency for less than this file.
 */

/** Plain event lines (logs, CI) or, on a terminal, a redrawn block: one line per worker and a tally. */
export function createPoolDisplay(
  plan: { sweep: string; total: number; status?: () => string },
  stream: NodeJS.WriteStream = process.stderr,
  interactive = Boolean(stream.isTTY) && !process.env['CI'],
): { onEvent: (event: PoolEvent) => void; done: () => void } {
  const active = new Map<
    number,
    { worker: number; name: string; step: number; totalSteps: number; started: number; figures: string }
  >();
  const tally = { completed: 0, diverged: 0, failed: 0, interrupted: 0, skipped: 0 };
  let drawnLines = 0;
  let lastDraw = 0;
  const status = () => (plan.status ? `; ${plan.status()}` : '');
  const draw = (force = false) => {
    if (!interactive) return;
    const now = Date.now();
    if (!force && now - lastDraw < 250) return;
    lastDraw = now;
    const lines = [
      `sweep ${plan.sweep}: ${tally.completed} completed, ${tally.diverged} diverged, ${tally.failed} failed, ${active.size} running, of ${plan.total}${status()}`,
      ...[...active.entries()]
        .sort((a, b) => a[1].worker - b[1].worker)
        .map(([index, a]) => {
          const fraction = a.totalSteps ? a.step / a.totalSteps : 0;
          const bar = `${'#'.repeat(Math.round(fraction * 16))}${'.'.repeat(16 - Math.round(fraction * 16))}`;
          return `  w${a.worker} #${index} [${bar}] ${(100 * fraction).toFixed(0).padStart(3)}% ${formatDuration((now - a.started) / 1000)}  ${a.name}  ${a.figures}`;
        }),
    ];
    const width = stream.columns || 120;
    const clear = drawnLines > 0 ? `\x1b[${drawnLines}F` : '';
    stream.write(`${clear}${lines.map((l) => `\x1b[2K${l.slice(0, width - 1)}`).join('\n')}\n`);
    drawnLines = lines.length;
  };
  const say = (line: string) => {
    if (interactive && drawnLines > 0) {
      stream.write(`\x1b[${drawnLines}F\x1b[0J`);
      drawnLines = 0;
    }
    stream.write(`${line}\n`);
    draw(true);
  };
  return {
    onEvent(event) {
      if (event.kind === 'start') {
        active.set(event.index, {
          worker: event.worker,
          name: event.run.name,
          step: 0,
          totalSteps: 0,
          started: Date.now(),
          figures: '',
        });
        if (!interactive) say(`[w${event.worker}] start #${event.index} ${event.run.id} ${event.run.name}`);
        else draw(true);
      } else if (event.kind === 'progress') {
        const a = active.get(event.index);
        if (!a) return;
        a.step = event.step;
        a.totalSteps = event.totalSteps;
        const f = event.figures as { loss?: number; traceF?: number };
        a.figures = [
          f.loss !== undefined ? `loss ${f.loss.toPrecision(3)}` : '',
          f.traceF !== undefined ? `Tr(F) ${f.traceF.toPrecision(3)}` : '',
        ]
          .filter(Boolean)
          .join('  ');
        draw();
      } else {
        const r = event.result;
        active.delete(r.index);
        tally[r.status] += 1;
        say(
          `${r.status === 'failed' ? 'FAILED' : r.status} #${r.index} ${r.id} ${r.name} (${formatDuration(r.seconds)})${r.error && r.status !== 'failed' ? `: ${r.error}` : ''}${interactive ? '' : status()}`,
        );
      }
    },
    done() {
      if (interactive && drawnLines > 0) draw(true);
    },
  };
}

export function formatPoolSummary(summary: PoolSummary, dir: string): string {
  const count = (s: PoolRunResult['status']) => summary.results.filter((r) => r.status === s).length;
  const lines = [
    `ran ${summary.results.length}: ${count('completed')} completed, ${count('diverged')} diverged, ${count('failed')} failed, ${count('interrupted')} interrupted` +
      (summary.skipped.length
        ? `; ${summary.skipped.length} not started (done already, running elsewhere or damaged)`
        : ''),
  ];
  const away = [
    ...summary.skipped.filter((s) => !s.reason.startsWith('already')),
    ...summary.results.filter((r) => r.status === 'skipped' && r.error?.startsWith('running elsewhere')),
  ];
  for (const r of away) lines.push(`  #${r.index} ${r.id}: ${'reason' in r ? r.reason : r.error}`);
  const failed = summary.results.filter((r) => r.status === 'failed');
  if (failed.length) {
    lines.push('', 'Failed runs:');
    for (const r of failed) {
      const error = (r.error ?? 'no error recorded').replace(/\n/g, '\n    ');
      lines.push(`  #${r.index} ${r.id} ${r.name}\n    ${error}\n    log: ${r.log}`);
    }
    lines.push(
      '',
      `Fix the cause and run \`fisherlab sweep local ${dir}\` again: finished runs are skipped, the rest resume.`,
    );
  }
  if (summary.interrupted) lines.push('', `Interrupted: run the same command again to resume.`);
  return lines.join('\n');
}
