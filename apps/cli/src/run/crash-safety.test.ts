import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rng } from '@fisherlab/datasets';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Crash safety against the real, built CLI: runs are stopped by SIGTERM (checkpoint, then exit) and
 * by SIGKILL (no chance to clean up) at seeded random moments, resumed, and their metrics compared
 * line by line with an uninterrupted run's.
 */
const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'bin.js');
const root = mkdtempSync(path.join(tmpdir(), 'fisherlab-crash-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const config = {
  dataset: { trainSubset: 240, testSubset: 100, noise: { fraction: 0.2 } },
  model: { arch: 'mlp', options: { hiddenUnits: [24] } },
  optimizer: { lr: 0.05, momentum: 0.9 },
  batchSize: 40,
  epochs: 3,
  penalty: { kind: 'fisher', alpha: 0.05, every: 2 },
  tracking: { subset: 48, every: 3, earlyEpochs: 1, earlyEvery: 2 },
  logEvery: 2,
  backend: 'wasm',
};
const configFile = path.join(root, 'config.json');

function start(args: string[]): ChildProcess {
  return spawn(process.execPath, [bin, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CI: '1' },
  });
}

function finished(
  child: ChildProcess,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  let stderr = '';
  child.stderr?.on('data', (d) => {
    stderr += String(d);
  });
  child.stdout?.resume();
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stderr })));
}

/** Metrics lines without wall-clock time; throws on a corrupt (unparsable) line. */
function metricLines(runDir: string): string[] {
  const text = readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8');
  expect(text.endsWith('\n')).toBe(true);
  return text
    .trimEnd()
    .split('\n')
    .map((line) => {
      const { time: _time, ...rest } = JSON.parse(line) as Record<string, unknown>;
      return JSON.stringify(rest);
    });
}

const waitFor = async (predicate: () => boolean, ms: number) => {
  const until = Date.now() + ms;
  while (!predicate() && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
};

let reference: string[];

beforeAll(async () => {
  expect(existsSync(bin), `the CLI must be built first (${bin})`).toBe(true);
  writeFileSync(configFile, JSON.stringify(config));
  const out = path.join(root, 'reference');
  const result = await finished(start(['train', '--config', configFile, '--output', out]));
  expect(result.code, result.stderr).toBe(0);
  reference = metricLines(out);
}, 120_000);

describe('interrupted runs', () => {
  it('SIGTERM mid-epoch checkpoints, exits 130, and the resumed run logs what an uninterrupted one does', async () => {
    const out = path.join(root, 'sigterm');
    const child = start(['train', '--config', configFile, '--output', out]);
    const done = finished(child);
    const metrics = path.join(out, 'metrics.jsonl');
    await waitFor(() => existsSync(metrics) && readFileSync(metrics, 'utf8').split('\n').length > 8, 60_000);
    child.kill('SIGTERM');
    const stopped = await done;
    expect(stopped.code, stopped.stderr).toBe(130);
    expect(JSON.parse(readFileSync(path.join(out, 'meta.json'), 'utf8')).status).toBe('interrupted');
    const resumed = await finished(start(['train', '--resume', out]));
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(metricLines(out)).toEqual(reference);
  });

  it('SIGKILL at 10 seeded random moments loses, duplicates and corrupts no line', async () => {
    const rng = Rng.fromSeed(2021);
    for (let trial = 0; trial < 10; trial++) {
      const out = path.join(root, `sigkill-${trial}`);
      let child = start(['train', '--config', configFile, '--output', out]);
      let kills = 0;
      for (;;) {
        const done = finished(child);
        // Kill after a random number of metrics bytes (0..the full log): before, at and between checkpoints.
        const target = Math.floor(rng.nextFloat() * 2600);
        const metrics = path.join(out, 'metrics.jsonl');
        let exited = false;
        void done.then(() => {
          exited = true;
        });
        await waitFor(() => exited || (existsSync(metrics) && statSync(metrics).size >= target), 60_000);
        if (!exited && kills < 2) {
          child.kill('SIGKILL');
          kills += 1;
        }
        const result = await done;
        if (result.code === 0) break;
        expect(result.signal, result.stderr).toBe('SIGKILL');
        child = start(['train', '--resume', out]);
      }
      expect(metricLines(out), `trial ${trial} (${kills} kills)`).toEqual(reference);
    }
  }, 600_000);
});
