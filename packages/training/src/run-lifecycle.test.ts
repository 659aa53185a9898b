import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { tf } from '@fisherlab/engine';
import type { RunMeta } from '@fisherlab/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CheckpointPhase, latestCheckpoint, readCheckpoint, writeCheckpoint } from './checkpoint.js';
import { ResumeRefusedError, RunDirectoryError, RunInUseError } from './errors.js';
import { readMetrics } from './metrics-log.js';
import type { RunConfigInput } from './spec.js';
import { train } from './train.js';

/**
 * The life of a run directory through the public train(): what a resume may change and what it
 * records, what it refuses (changing nothing), and what a kill or a lost file at any moment of a
 * checkpoint leaves.
 */
const root = mkdtempSync(path.join(tmpdir(), 'fisherlab-lifecycle-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const spec = (name: string, extra: Partial<RunConfigInput> = {}): RunConfigInput => ({
  name,
  dataset: { trainSubset: 120, testSubset: 40 },
  model: { arch: 'mlp', options: { hiddenUnits: [16] } },
  optimizer: { lr: 0.03, momentum: 0.9 },
  batchSize: 40,
  epochs: 3,
  tracking: { subset: 0 },
  logEvery: 1,
  backend: 'cpu',
  output: path.join(root, name),
  ...extra,
});

const comparable = (runDir: string) =>
  readMetrics(path.join(runDir, 'metrics.jsonl')).map(({ time: _time, ...rest }) => rest);
const readMeta = (runDir: string) =>
  JSON.parse(readFileSync(path.join(runDir, 'meta.json'), 'utf8')) as RunMeta;

/** Every file under `dir` with the SHA-256 of its content. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else out[path.relative(dir, full)] = createHash('sha256').update(readFileSync(full)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

/** train() stopped (as by an abort) once `steps` steps are done. */
async function trainSteps(s: RunConfigInput, steps: number, resume = false) {
  const stop = new AbortController();
  return train(s, {
    resume,
    signal: stop.signal,
    onProgress: (p) => {
      if (p.step === steps) stop.abort();
    },
  });
}

let reference: ReturnType<typeof comparable>;
/** A run stopped after epoch 1 (step 3, its checkpoint there), copied afresh for each case. */
let stopped: string;

beforeAll(async () => {
  reference = comparable((await train(spec('reference'))).runDir);
  const first = await trainSteps(spec('stopped'), 3);
  expect(first.status).toBe('interrupted');
  stopped = first.runDir;
});

function copyOf(name: string): RunConfigInput {
  const s = spec('stopped', { output: path.join(root, name) });
  cpSync(stopped, s.output as string, { recursive: true });
  return s;
}

describe('the resume policy', () => {
  it('refuses a changed lr and dataset, naming each key with both values, and changes nothing', async () => {
    const s = copyOf('changed');
    const before = snapshot(s.output as string);
    let caught: unknown;
    try {
      await train(
        { ...s, optimizer: { lr: 0.1, momentum: 0.9 }, dataset: { trainSubset: 80, testSubset: 40 } },
        { resume: true },
      );
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ResumeRefusedError);
    const refusal = caught as ResumeRefusedError;
    expect(refusal.changes).toEqual([
      { key: 'dataset.trainSubset', from: 120, to: 80 },
      { key: 'optimizer.lr', from: 0.03, to: 0.1 },
    ]);
    expect(refusal.message).toMatch(/dataset\.trainSubset 120 → 80, optimizer\.lr 0\.03 → 0\.1/);
    expect(refusal.message).not.toMatch(/--/); // library terms, no CLI flags
    expect(snapshot(s.output as string)).toEqual(before);
  });

  it('refuses a spec that leaves out keys the run set (they would fall back to defaults)', async () => {
    const s = copyOf('partial');
    const { momentum: _m, ...noMomentum } = { lr: 0.03, momentum: 0.9 };
    await expect(train({ ...s, optimizer: noMomentum }, { resume: true })).rejects.toThrow(
      /optimizer\.momentum 0\.9 → 0/,
    );
  });

  it('accepts more epochs, records the change in meta.json and ends as the uninterrupted longer run', async () => {
    const s = copyOf('more-epochs');
    const outcome = await train({ ...s, epochs: 4 }, { resume: true });
    expect(outcome).toMatchObject({ status: 'completed', steps: 12 });
    const meta = readMeta(outcome.runDir);
    expect(meta.resumes).toEqual([
      {
        at: expect.any(String),
        fromStep: 3,
        checkpoint: path.join('checkpoints', 'step-00000003'),
        changes: [{ key: 'epochs', from: 3, to: 4 }],
      },
    ]);
    expect(JSON.parse(readFileSync(path.join(outcome.runDir, 'config.json'), 'utf8')).epochs).toBe(4);
    const longer = comparable((await train(spec('four-epochs', { epochs: 4 }))).runDir);
    expect(comparable(outcome.runDir)).toEqual(longer);
  });

  it('refuses a config.json edited by hand, naming it, and changes nothing', async () => {
    const s = copyOf('hand-edited');
    const file = path.join(s.output as string, 'config.json');
    writeFileSync(file, readFileSync(file, 'utf8').replace('"lr": 0.03', '"lr": 0.3'));
    const before = snapshot(s.output as string);
    const refusal = await train({ ...s, optimizer: { lr: 0.3, momentum: 0.9 } }, { resume: true }).catch(
      (e) => e,
    );
    expect(refusal).toBeInstanceOf(RunDirectoryError);
    expect(refusal).toMatchObject({ problem: 'config-edited', details: { file } });
    expect(refusal.message).toMatch(/config\.json was changed after the trainer wrote it .*restore it/);
    expect(snapshot(s.output as string)).toEqual(before);
  });

  it('a second train() on the same output in this process is told so, not to kill itself', async () => {
    const s = spec('twice');
    const stop = new AbortController();
    const first = train(s, { signal: stop.signal });
    const second = await train(s).catch((e) => e);
    stop.abort();
    await first;
    expect(second).toBeInstanceOf(RunInUseError);
    expect(second.inThisProcess).toBe(true);
    expect(second.message).toMatch(/another train\(\) call in this process/);
    expect(second.message).not.toMatch(/kill/);
  });
});

describe('a checkpoint is never removed while the pointer names it', () => {
  const phases: CheckpointPhase[] = [
    'wrote-files',
    'wrote-manifest',
    'renamed',
    'moved-pointer',
    'removed-old',
  ];

  it.each(phases)(
    'a same-step rewrite stopped after %s leaves a checkpoint that verifies, and the run resumes',
    async (phase) => {
      const s = copyOf(`rewrite-${phase}`);
      const runDir = s.output as string;
      const pointer = latestCheckpoint(runDir)!;
      const saved = await readCheckpoint(runDir, pointer);
      const slots = saved.optimizer.slots.map((slot) => ({
        weight: slot.weight,
        slot: slot.slot,
        tensor: tf.tensor(slot.values, slot.shape),
      }));
      try {
        await expect(
          writeCheckpoint(
            runDir,
            { state: saved.state, model: saved.model, optimizer: { ...saved.optimizer, slots } },
            (p) => {
              if (p === phase) throw new Error(`killed after ${p}`);
            },
          ),
        ).rejects.toThrow(`killed after ${phase}`);
      } finally {
        saved.model.dispose();
        tf.dispose(slots.map((x) => x.tensor));
      }
      const found = latestCheckpoint(runDir);
      expect(found?.step).toBe(3);
      expect(found?.recovered).toBeUndefined(); // the pointer still names one that is there
      (await readCheckpoint(runDir, found!)).model.dispose(); // verifies
      const outcome = await train(s, { resume: true });
      expect(outcome.status).toBe('completed');
      expect(comparable(runDir)).toEqual(reference);
      expect(readdirSync(path.join(runDir, 'checkpoints'))).toEqual(['step-00000009']);
    },
  );

  it('a stop right after an epoch-end checkpoint does not rewrite it', async () => {
    // `stopped` was aborted at step 3, the end of epoch 1: its checkpoint was written once
    expect(readdirSync(path.join(stopped, 'checkpoints'))).toEqual(['step-00000003']);
    expect(JSON.parse(readFileSync(path.join(stopped, 'checkpoint.json'), 'utf8'))).toEqual({
      dir: path.join('checkpoints', 'step-00000003'),
      step: 3,
    });
  });
});

describe('checkpoint.json is a cache', () => {
  it('with it missing, a resume continues from the newest checkpoint that verifies, and says so', async () => {
    const s = copyOf('no-pointer');
    rmSync(path.join(s.output as string, 'checkpoint.json'));
    const said: string[] = [];
    const outcome = await train(s, { resume: true, log: (m) => said.push(m) });
    expect(outcome.status).toBe('completed');
    expect(said.join('\n')).toMatch(
      /checkpoint\.json is missing; continuing from the newest checkpoint that verifies, checkpoints\/step-00000003/,
    );
    expect(comparable(outcome.runDir)).toEqual(reference);
  });

  it('with it garbled and a damaged newer checkpoint beside, the older one that verifies is used', async () => {
    const s = copyOf('garbled-pointer');
    const runDir = s.output as string;
    writeFileSync(path.join(runDir, 'checkpoint.json'), '{"dir": "checkp');
    const newer = path.join(runDir, 'checkpoints', 'step-00000006');
    cpSync(path.join(runDir, 'checkpoints', 'step-00000003'), newer, { recursive: true });
    writeFileSync(path.join(newer, 'weights.bin'), 'not the weights');
    const found = latestCheckpoint(runDir);
    expect(found).toMatchObject({ step: 3, dir: path.join('checkpoints', 'step-00000003') });
    expect(found?.recovered).toMatch(/not valid JSON.*checkpoints\/step-00000006 does not verify/);
    expect((await train(s, { resume: true })).status).toBe('completed');
    expect(comparable(runDir)).toEqual(reference);
  });

  it('a resume that finds records but no checkpoint refuses to start over unless told to', async () => {
    const s = copyOf('no-checkpoint');
    const runDir = s.output as string;
    rmSync(path.join(runDir, 'checkpoints'), { recursive: true });
    const before = snapshot(runDir);
    const refusal = await train(s, { resume: true }).catch((e) => e);
    expect(refusal).toBeInstanceOf(RunDirectoryError);
    expect(refusal.problem).toBe('no-checkpoint');
    expect(refusal.message).toMatch(
      /metrics\.jsonl holds records but there is no checkpoint .*overwrite: true/,
    );
    expect(snapshot(runDir)).toEqual(before);
    expect((await train(s, { resume: true, overwrite: true })).status).toBe('completed');
    expect(comparable(runDir)).toEqual(reference);
  });

  it('a fresh train into a directory with checkpoints or records refuses instead of deleting them', async () => {
    const s = copyOf('fresh-over');
    const runDir = s.output as string;
    rmSync(path.join(runDir, 'checkpoint.json'));
    const before = snapshot(runDir);
    const refusal = await train(s).catch((e) => e);
    expect(refusal).toMatchObject({ problem: 'holds-records' });
    expect(refusal.message).toMatch(
      /metrics\.jsonl, checkpoints; resume it \(resume: true\), replace it \(overwrite: true\)/,
    );
    expect(snapshot(runDir)).toEqual(before);
  });
});

describe('an abort during start-up', () => {
  it('before anything is written leaves nothing (fresh) or the directory as it was (resume)', async () => {
    const aborted = AbortSignal.abort();
    const fresh = await train(spec('aborted-fresh'), { signal: aborted });
    expect(fresh).toMatchObject({ status: 'interrupted', steps: 0 });
    expect(existsSync(path.join(root, 'aborted-fresh'))).toBe(false);

    const s = copyOf('aborted-resume');
    const before = snapshot(s.output as string);
    const resumed = await train(s, { resume: true, signal: aborted });
    expect(resumed).toMatchObject({ status: 'interrupted', steps: 3 });
    expect(snapshot(s.output as string)).toEqual(before);
  });

  it('during the model build (after the data loaded) leaves nothing (fresh) or the directory as it was (resume)', async () => {
    const build =
      (stop: AbortController) =>
      ({ inputShape, numClasses }: { inputShape: number[]; numClasses: number }) => {
        stop.abort(); // the signal arrives while the model is being built
        return tf.sequential({
          layers: [
            tf.layers.flatten({ inputShape }),
            tf.layers.dense({ units: 16, activation: 'relu' }),
            tf.layers.dense({ units: numClasses }),
          ],
        });
      };
    const fresh = new AbortController();
    const outcome = await train(spec('aborted-build'), { signal: fresh.signal, model: build(fresh) });
    expect(outcome).toMatchObject({ status: 'interrupted', steps: 0 });
    expect(existsSync(path.join(root, 'aborted-build'))).toBe(false);

    const s = spec('aborted-build-resume');
    const first = new AbortController();
    await train(s, {
      model: build(new AbortController()),
      signal: first.signal,
      onProgress: (p) => {
        if (p.step === 3) first.abort();
      },
    });
    const before = snapshot(s.output as string);
    const again = new AbortController();
    const resumed = await train(s, { resume: true, signal: again.signal, model: build(again) });
    expect(resumed).toMatchObject({ status: 'interrupted', steps: 3 });
    expect(snapshot(s.output as string)).toEqual(before);
  });
});

/** Runs `body` with environment variables set as given. */
async function withEnv<T>(vars: Record<string, string>, body: () => Promise<T>): Promise<T> {
  const previous = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  try {
    return await body();
  } finally {
    for (const [k, v] of Object.entries(previous)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

describe('settings that change numbers besides the config', () => {
  it('a resume continues on the backend the run started on, whatever FISHERLAB_BACKEND says now', async () => {
    const s = spec('pinned-backend', { backend: 'auto' });
    const first = await withEnv({ FISHERLAB_BACKEND: 'cpu' }, () => trainSteps(s, 3));
    expect(first.status).toBe('interrupted');
    expect(readMeta(first.runDir).backend).toBe('cpu');
    const said: string[] = [];
    const resumed = await withEnv({ FISHERLAB_BACKEND: 'wasm' }, () =>
      train(s, { resume: true, log: (m) => said.push(m) }),
    );
    expect(resumed.status).toBe('completed');
    expect(said.join('\n')).toMatch(
      /backend: cpu, as when this run started \(FISHERLAB_BACKEND asks for wasm\)/,
    );
    expect(readMeta(first.runDir).backend).toBe('cpu');
    expect(comparable(first.runDir)).toEqual(reference);
  });

  it('a bad FISHERLAB_NATIVE_THREADS is refused before anything is written, not run on another backend', async () => {
    const s = spec('bad-threads', { backend: 'auto' });
    const refusal = await withEnv({ FISHERLAB_NATIVE_THREADS: 'abc' }, () => train(s).catch((e) => e));
    expect(refusal).toMatchObject({
      name: 'EnvironmentSettingError',
      variable: 'FISHERLAB_NATIVE_THREADS',
      value: 'abc',
    });
    expect(existsSync(s.output as string)).toBe(false);
  });
});

describe('meta.json records what changes a run’s numbers', () => {
  it('the backend, config.json’s SHA-256 and every resume', () => {
    const meta = readMeta(stopped);
    expect(meta).toMatchObject({ backend: 'cpu', configSha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const config = readFileSync(path.join(stopped, 'config.json'));
    expect(createHash('sha256').update(config).digest('hex')).toBe(meta.configSha256);
    expect(statSync(path.join(stopped, 'checkpoint.json')).isFile()).toBe(true);
  });
});
