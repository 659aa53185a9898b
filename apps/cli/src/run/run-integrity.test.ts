import { cpSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseRunConfig, readMetrics } from '@fisherlab/training';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { explainError } from '../main.js';
import { trainRun } from './trainer.js';

/**
 * What a resume does with a run directory damaged after it was written: a deleted, shortened or
 * edited metrics.jsonl, a checkpoint file zeroed, replaced or cut. Each is refused with the file
 * named (an input error, exit 2), except the one damage a kill itself leaves (a torn last line),
 * which is repaired.
 */
const root = mkdtempSync(path.join(tmpdir(), 'fisherlab-integrity-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const quiet = { update() {}, log() {}, done() {} };
const config = (name: string, extra: Record<string, unknown> = {}) =>
  parseRunConfig({
    name,
    dataset: { trainSubset: 200, testSubset: 100 },
    model: { arch: 'mlp', options: { hiddenUnits: [16] } },
    optimizer: { lr: 0.05, momentum: 0.9 },
    batchSize: 50,
    epochs: 3,
    tracking: { subset: 32, every: 2, earlyEpochs: 1, earlyEvery: 1 },
    logEvery: 1,
    backend: 'wasm',
    output: path.join(root, name),
    ...extra,
  });
const comparable = (runDir: string) =>
  readMetrics(path.join(runDir, 'metrics.jsonl')).map(({ time: _time, ...rest }) => rest);

let reference: ReturnType<typeof comparable>;
/** A run interrupted at step 6 (its checkpoint at step 6), copied afresh for each case. */
let interrupted: string;

beforeAll(async () => {
  reference = comparable(
    (await trainRun(config('reference'), { progress: quiet, handleSignals: false })).runDir,
  );
  const first = await trainRun(config('interrupted'), {
    progress: quiet,
    handleSignals: false,
    stopAfterSteps: 6,
  });
  expect(first.status).toBe('interrupted');
  interrupted = first.runDir;
});

/** A copy of the interrupted run under `name`, damaged by `damage`. */
function damagedCopy(name: string, damage: (runDir: string) => void): ReturnType<typeof config> {
  const c = { ...config('interrupted'), output: path.join(root, name) };
  cpSync(interrupted, c.output, { recursive: true });
  damage(c.output);
  return c;
}

async function refusal(c: ReturnType<typeof config>): Promise<string> {
  let caught: unknown;
  try {
    await trainRun(c, { progress: quiet, handleSignals: false, resume: true });
  } catch (error) {
    caught = error;
  }
  const explained = explainError(caught);
  expect(explained, `not an input error: ${String(caught)}`).toBeDefined();
  expect(explained!.exitCode).toBe(2);
  return explained!.message;
}

const checkpointDir = (runDir: string) =>
  path.join(runDir, JSON.parse(readFileSync(path.join(runDir, 'checkpoint.json'), 'utf8')).dir as string);
const metricsFile = (runDir: string) => path.join(runDir, 'metrics.jsonl');

describe('resume checks metrics.jsonl against its checkpoint', () => {
  it('repairs a torn last line (what a kill mid-write leaves) and ends as the uninterrupted run', async () => {
    const c = damagedCopy('torn', (d) => writeFileSync(metricsFile(d), '{"kind":"train","st', { flag: 'a' }));
    const outcome = await trainRun(c, { progress: quiet, handleSignals: false, resume: true });
    expect(outcome.status).toBe('completed');
    expect(comparable(outcome.runDir)).toEqual(reference);
  });

  it('refuses a deleted metrics.jsonl, naming it', async () => {
    const c = damagedCopy('deleted', (d) => rmSync(metricsFile(d)));
    expect(await refusal(c)).toMatch(
      /deleted\/metrics\.jsonl: expected the \d+ bytes recorded at the checkpoint of step 6, found no such file/,
    );
  });

  it('refuses one cut shorter than the checkpoint recorded', async () => {
    const c = damagedCopy('shorter', (d) => truncateSync(metricsFile(d), statSync(metricsFile(d)).size - 30));
    expect(await refusal(c)).toMatch(
      /shorter\/metrics\.jsonl: expected the \d+ bytes .* found \d+ bytes \(lines were removed\)/,
    );
  });

  it('refuses one with a line inserted before the checkpoint (its lines would be glued together)', async () => {
    const c = damagedCopy('inserted', (d) => {
      const lines = readFileSync(metricsFile(d), 'utf8').split('\n');
      lines.splice(
        2,
        0,
        '{"kind":"train","step":99,"epoch":9,"time":0,"lr":1,"loss":1,"accuracy":1,"penalty":null}',
      );
      writeFileSync(metricsFile(d), lines.join('\n'));
    });
    expect(await refusal(c)).toMatch(/inserted\/metrics\.jsonl: .* found different content there/);
    // nothing was changed by the refusal
    expect(readFileSync(metricsFile(c.output), 'utf8')).toContain('"step":99');
  });
});

describe('resume checks every checkpoint file against its manifest', () => {
  it('refuses optimizer.bin zeroed in place (same size), which would otherwise resume with other numbers', async () => {
    const c = damagedCopy('zeros', (d) => {
      const file = path.join(checkpointDir(d), 'optimizer.bin');
      writeFileSync(file, new Uint8Array(statSync(file).size));
    });
    expect(await refusal(c)).toMatch(
      /optimizer\.bin: expected SHA-256 .*\(its content changed after it was written\)\. Fix: the checkpoint cannot be trusted/,
    );
  });

  it('refuses optimizer.bin of random bytes and one cut short, naming it (not a divergence, not a tfjs error)', async () => {
    const random = damagedCopy('random', (d) => {
      const file = path.join(checkpointDir(d), 'optimizer.bin');
      writeFileSync(
        file,
        new Uint8Array(statSync(file).size).map((_, i) => (i * 131 + 7) % 256),
      );
    });
    expect(await refusal(random)).toMatch(
      /random\/checkpoints\/step-00000006\/optimizer\.bin: expected SHA-256/,
    );
    const cut = damagedCopy('cut', (d) => truncateSync(path.join(checkpointDir(d), 'optimizer.bin'), 10));
    expect(await refusal(cut)).toMatch(/optimizer\.bin: expected \d+ bytes, found 10 bytes/);
  });

  it('refuses garbled state.json and optimizer.json, and damaged weights, naming each', async () => {
    for (const file of ['state.json', 'optimizer.json', 'weights.bin', 'model.json']) {
      const c = damagedCopy(`garbled-${file}`, (d) =>
        writeFileSync(path.join(checkpointDir(d), file), '{"not": "what was written"'),
      );
      expect(await refusal(c)).toMatch(new RegExp(`${file.replace('.', '\\.')}: expected`));
    }
  });

  it('refuses a checkpoint whose manifest is missing (an unfinished or damaged checkpoint)', async () => {
    const c = damagedCopy('no-manifest', (d) => rmSync(path.join(checkpointDir(d), 'manifest.json')));
    expect(await refusal(c)).toMatch(
      /metrics\.jsonl holds records but there is no checkpoint to continue them from \(.*checkpoint\.json names checkpoints\/step-00000006, which has no manifest\.json .*pass --overwrite with --resume/,
    );
  });
});
