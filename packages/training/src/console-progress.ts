/**
 * A run's live display on a console: one redrawn line on a terminal (bar, ETA, latest figures),
 * plain log lines otherwise (CI, files, pipes). Written here because it is one line of text: a
 * progress-bar library would add a dependency for less than this file.
 *
 *   const display = consoleProgress('my-run');
 *   await train(spec, { onProgress: (p) => display.update(p), log: display.log });
 *   display.done();
 */
import { formatDuration } from '@fisherlab/core';
import type { ProgressFigures, TrainProgress } from './session.js';

/** Where a run's progress goes: a console line, a pool's JSON lines, a test's recorder. */
export interface ProgressDisplay {
  update(progress: TrainProgress): void;
  log(message: string): void;
  done(): void;
}

const fmt = (x: number | undefined | null, digits = 3): string =>
  x === undefined || x === null ? '-' : Math.abs(x) >= 1000 ? x.toExponential(2) : x.toPrecision(digits);
const pct = (x: number | undefined): string => (x === undefined ? '-' : `${(100 * x).toFixed(1)}%`);

/** `loss 0.412  acc 87.5%  Tr(F) 12.3±0.41  pen 0.05  test 80.1%`: the figures a run has so far. */
export function describeFigures(f: ProgressFigures): string {
  const parts = [`loss ${fmt(f.loss)}`, `acc ${pct(f.accuracy)}`];
  if (f.traceF !== undefined) parts.push(`Tr(F) ${fmt(f.traceF)}±${fmt(f.traceFStdErr, 2)}`);
  if (f.penalty !== undefined && f.penalty !== null) parts.push(`pen ${fmt(f.penalty)}`);
  if (f.testAccuracy !== undefined) parts.push(`test ${pct(f.testAccuracy)}`);
  return parts.join('  ');
}

export function consoleProgress(
  label: string,
  stream: NodeJS.WriteStream = process.stderr,
  interactive: boolean = Boolean(stream.isTTY) && !process.env['CI'],
): ProgressDisplay {
  const started = Date.now();
  let lastDraw = 0;
  let drawn = false;
  return {
    update({ step, totalSteps, epoch, figures }) {
      if (!interactive) return;
      const now = Date.now();
      if (now - lastDraw < 200 && step < totalSteps) return;
      lastDraw = now;
      const fraction = totalSteps > 0 ? step / totalSteps : 0;
      const width = 24;
      const filled = Math.round(fraction * width);
      const elapsed = (now - started) / 1000;
      const eta = fraction > 0 ? (elapsed * (1 - fraction)) / fraction : Number.NaN;
      const line = `${label} ep ${epoch.toFixed(2)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(100 * fraction).toFixed(0)}% ETA ${formatDuration(eta)}  ${describeFigures(figures)}`;
      stream.write(`\r\x1b[2K${line.slice(0, (stream.columns || 160) - 1)}`);
      drawn = true;
    },
    log(message) {
      if (interactive && drawn) stream.write('\r\x1b[2K');
      stream.write(`${label} ${message}\n`);
      drawn = false;
    },
    done() {
      if (interactive && drawn) stream.write('\n');
    },
  };
}
