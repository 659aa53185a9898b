import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { initBackend } from '@fisherlab/engine';
import { parseRunConfig, readMetrics } from '@fisherlab/training';
import { afterAll, describe, expect, it } from 'vitest';
import { trainRun } from './trainer.js';

/**
 * oneDNN splits its reductions by thread count, so the native tier's results change in the last
 * digits with FISHERLAB_NATIVE_THREADS. A run records its count in meta.json and a resume keeps
 * it, so a run resumed under another setting still matches an uninterrupted one line for line.
 */
const root = mkdtempSync(path.join(tmpdir(), 'fisherlab-threads-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const backend = await initBackend({ backend: 'wasm' });
const quiet = { update() {}, log() {}, done() {} };
const config = (name: string) =>
  parseRunConfig({
    name,
    dataset: { trainSubset: 256, testSubset: 64 },
    model: { arch: 'simplecnn', options: { filters: [8, 16], hiddenUnits: 32 } },
    optimizer: { lr: 0.05, momentum: 0.9 },
    batchSize: 64,
    epochs: 2,
    tracking: { subset: 0 },
    logEvery: 1,
    backend: 'wasm',
    output: path.join(root, name),
  });
/** Runs `train` with FISHERLAB_NATIVE_THREADS set as given. */
async function withThreads<T>(threads: string, train: () => Promise<T>): Promise<T> {
  const previous = process.env['FISHERLAB_NATIVE_THREADS'];
  process.env['FISHERLAB_NATIVE_THREADS'] = threads;
  try {
    return await train();
  } finally {
    if (previous === undefined) delete process.env['FISHERLAB_NATIVE_THREADS'];
    else process.env['FISHERLAB_NATIVE_THREADS'] = previous;
  }
}

const comparable = (runDir: string) =>
  readMetrics(path.join(runDir, 'metrics.jsonl')).map(({ time: _time, ...rest }) => rest);

describe.runIf(backend.native?.active)('native thread count', () => {
  it('changes the last digits of a run, so a resume keeps the count the run started with', async () => {
    const straight = await withThreads('2', () =>
      trainRun(config('two-threads'), { progress: quiet, handleSignals: false }),
    );
    const oneThread = await withThreads('1', () =>
      trainRun(config('one-thread'), { progress: quiet, handleSignals: false }),
    );
    // the premise: the count matters (if oneDNN ever stops depending on it, this test says so)
    expect(comparable(oneThread.runDir)).not.toEqual(comparable(straight.runDir));

    const c = config('resumed');
    const first = await withThreads('2', () =>
      trainRun(c, { progress: quiet, handleSignals: false, stopAfterSteps: 3 }),
    );
    expect(first.status).toBe('interrupted');
    expect(JSON.parse(readFileSync(path.join(c.output, 'meta.json'), 'utf8')).nativeThreads).toBe(2);
    // resumed where FISHERLAB_NATIVE_THREADS asks for one thread
    const said: string[] = [];
    const resumed = await withThreads('1', () =>
      trainRun(c, {
        progress: { ...quiet, log: (m: string) => said.push(m) },
        handleSignals: false,
        resume: true,
      }),
    );
    expect(resumed.status).toBe('completed');
    expect(said.join('\n')).toMatch(/native tier: 2 threads, as when this run started \(1 requested now\)/);
    expect(comparable(c.output)).toEqual(comparable(straight.runDir));
  });
});
