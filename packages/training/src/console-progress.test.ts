import { describe, expect, it } from 'vitest';
import { consoleProgress, describeFigures } from './console-progress.js';

/** A stream that keeps what was written (columns as a terminal reports them). */
function recorder(): NodeJS.WriteStream & { text: string } {
  const stream = {
    text: '',
    columns: 200,
    write(chunk: string) {
      stream.text += chunk;
      return true;
    },
  };
  return stream as unknown as NodeJS.WriteStream & { text: string };
}

describe('consoleProgress', () => {
  it('off a terminal writes only the log lines, each with the label', () => {
    const stream = recorder();
    const display = consoleProgress('run-a', stream, false);
    display.update({ step: 5, totalSteps: 10, epoch: 0.5, figures: { loss: 1.5 } });
    display.log('epoch 1: test 80.0%');
    display.done();
    expect(stream.text).toBe('run-a epoch 1: test 80.0%\n');
  });

  it('on a terminal redraws one line with the bar and figures, and clears it for a log line', () => {
    const stream = recorder();
    const display = consoleProgress('run-b', stream, true);
    display.update({ step: 5, totalSteps: 10, epoch: 0.5, figures: { loss: 0.25, accuracy: 0.875 } });
    const clearLine = '\r\x1b[2K';
    expect(stream.text.startsWith(clearLine)).toBe(true);
    expect(stream.text.slice(clearLine.length)).toMatch(
      /^run-b ep 0\.50 \[#{12}\.{12}\] 50% ETA \S+ {2}loss 0\.250 {2}acc 87\.5%$/,
    );
    display.log('saved');
    expect(stream.text.endsWith('\r\x1b[2Krun-b saved\n')).toBe(true);
    display.update({ step: 10, totalSteps: 10, epoch: 1, figures: {} });
    display.done();
    expect(stream.text).toMatch(/100% ETA 0s {2}loss - {2}acc -\n$/);
  });
});

describe('describeFigures', () => {
  it('prints Tr(F) with its standard error and the penalty only when there is one', () => {
    expect(describeFigures({ loss: 2, accuracy: 0.1, traceF: 12345, traceFStdErr: 0.5, penalty: null })).toBe(
      'loss 2.00  acc 10.0%  Tr(F) 1.23e+4±0.50',
    );
    expect(describeFigures({ penalty: 0.05, testAccuracy: 0.8 })).toBe(
      'loss -  acc -  pen 0.0500  test 80.0%',
    );
  });
});
