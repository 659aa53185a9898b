import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * A SIGTERM at any moment of the CLI's start-up ends with 130 and a run directory that is either
 * untouched or resumable (a checkpoint and its pointer). The moments are counted from the spawn;
 * before bin.js's first line only node itself runs (about 0.05 s on an idle machine, over 0.3 s on
 * a loaded one), and a signal then kills node before any JavaScript exists, so where a moment
 * falls inside node's own start the test waits for the CLI to name its process (bin.ts does that
 * right after installing its handlers). The engines cover that window themselves: the Slurm
 * script and the Kubernetes policy count a run killed by SIGTERM (143) as interrupted.
 */

const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'bin.js');
const scratch = mkdtempSync(path.join(os.tmpdir(), 'fisherlab-start-up-signals-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** True once bin.ts has run its first lines (its handlers are in place): it names the process. */
const started = (child: ChildProcess): boolean => {
  try {
    return readFileSync(`/proc/${child.pid}/comm`, 'utf8').trim() === 'fisherlab';
  } catch {
    return false;
  }
};

/** Spawns the CLI, sends SIGTERM `atMs` after the spawn (and not before bin.ts runs), returns the exit. */
async function terminateAt(args: string[], atMs: number) {
  const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, CI: 'true' } });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  );
  await sleep(atMs);
  while (!started(child) && child.exitCode === null) await sleep(2);
  child.kill('SIGTERM');
  return { ...(await exited), stderr };
}

const train = (output: string) => [
  'train',
  ...[
    '--train-subset',
    '64',
    '--test-subset',
    '32',
    '--arch',
    'mlp',
    '--model-options',
    '{"hiddenUnits":[8]}',
  ],
  // long enough (minutes even on an idle machine) that every moment below falls before its end
  ...['--batch-size', '16', '--lr', '0.1', '--epochs', '5000', '--backend', 'wasm', '--output', output],
];

describe('SIGTERM during start-up', () => {
  it.each([50, 300, 1000, 2000, 4000, 8000])(
    'at %i ms: exit 130, and the run directory is untouched or resumable',
    async (atMs) => {
      const output = path.join(scratch, `run-${atMs}`);
      const { code, signal, stderr } = await terminateAt(train(output), atMs);
      expect({ code, signal }, stderr).toEqual({ code: 130, signal: null });
      if (existsSync(path.join(output, 'config.json'))) {
        // it got as far as the run: it checkpointed, and says so
        expect(existsSync(path.join(output, 'checkpoint.json')), stderr).toBe(true);
        expect(JSON.parse(readFileSync(path.join(output, 'meta.json'), 'utf8')).status).toBe('interrupted');
      }
    },
  );
});
