import { describe, expect, it } from 'vitest';
import { stopOnSignals } from './stop-signals.js';

/** Real signals sent to this process, with the exit replaced by a recorder. */
const delivered = async (until: () => boolean) => {
  for (let i = 0; i < 500 && !until(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
};

describe('stopOnSignals', () => {
  it('the first SIGTERM or SIGINT asks for a stop; a second one exits at once with 130', async () => {
    const said: string[] = [];
    const exits: number[] = [];
    const before = process.listenerCount('SIGTERM');
    const signals = stopOnSignals({
      say: (m) => said.push(m),
      exit: (code) => exits.push(code),
      sameStopMs: 0,
    });
    try {
      expect(signals.requested).toBeUndefined();
      process.kill(process.pid, 'SIGTERM');
      await delivered(() => signals.requested !== undefined);
      expect(signals.requested).toBe('SIGTERM');
      expect(signals.signal.aborted).toBe(true);
      expect(signals.signal.reason).toBe('SIGTERM');
      expect(exits).toEqual([]);
      expect(said[0]).toMatch(
        /SIGTERM: checkpointing after this step, then exiting \(send it again to exit at once\)/,
      );
      process.kill(process.pid, 'SIGINT');
      await delivered(() => exits.length > 0);
      expect(exits).toEqual([130]);
      expect(said[1]).toMatch(/SIGINT again: exiting now without a checkpoint/);
    } finally {
      signals.dispose();
    }
    expect(process.listenerCount('SIGTERM')).toBe(before);
  });

  it('a second signal right after the first is the same stop (a process group and a forwarder both sent it)', async () => {
    const exits: number[] = [];
    const signals = stopOnSignals({ say: () => {}, exit: (code) => exits.push(code), sameStopMs: 60_000 });
    try {
      process.kill(process.pid, 'SIGTERM');
      await delivered(() => signals.requested !== undefined);
      process.kill(process.pid, 'SIGTERM');
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(exits).toEqual([]);
      expect(signals.requested).toBe('SIGTERM');
    } finally {
      signals.dispose();
    }
  });
});
