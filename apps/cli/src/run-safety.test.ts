import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * What a user can do to a run from the command line: start a second writer, signal it at any step,
 * damage its files, resume it with other flags, point it at a path that cannot be written. Against
 * the built CLI, as a user runs it: every input or environment error exits 2 with the file or key and
 * the fix, and never with a stack trace.
 */
const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'bin.js');
const root = mkdtempSync(path.join(tmpdir(), 'fisherlab-safety-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The datasets package's own fixture writer (CIFAR-10 in its published format), loaded by path. */
const fixturesModule = new URL('../../../packages/datasets/src/fixtures/write.ts', import.meta.url).href;
const { writeCifar10 } = (await import(fixturesModule)) as {
  writeCifar10(dir: string, perBatch: number, testCount: number): Promise<void>;
};

/** One long epoch (250 steps of 8 examples), every step logged: a signal lands mid-epoch. */
const longEpoch = {
  dataset: { trainSubset: 2000, testSubset: 100 },
  model: { arch: 'mlp', options: { hiddenUnits: [16] } },
  optimizer: { lr: 0.05, momentum: 0.9 },
  batchSize: 8,
  epochs: 1,
  tracking: { subset: 0 },
  logEvery: 1,
  backend: 'wasm',
};
const STEPS_PER_EPOCH = 250;
const longConfig = path.join(root, 'long.json');

const tiny = ['--train-subset', '100', '--test-subset', '50', '--arch', 'mlp'];
const tinyModel = [
  '--model-options',
  '{"hiddenUnits":[8]}',
  '--batch-size',
  '50',
  '--momentum',
  '0.9',
  '--backend',
  'wasm',
];

const env = { ...process.env, CI: '1' };
const start = (args: string[]): ChildProcess =>
  spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });

function finished(child: ChildProcess): Promise<{ code: number | null; out: string; err: string }> {
  let out = '';
  let err = '';
  child.stdout?.on('data', (d) => {
    out += String(d);
  });
  child.stderr?.on('data', (d) => {
    err += String(d);
  });
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, out, err })));
}

const fisherlab = (...args: string[]) => {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env, timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

/** Exit 2, the message on stderr prefixed `fisherlab:`, and no stack trace. */
function expectInputError(result: { code: number | null; err: string; out: string }, message: RegExp): void {
  expect(result.code, result.err + result.out).toBe(2);
  expect(result.err).toMatch(/^fisherlab: /m);
  expect(result.err).toMatch(message);
  expect(result.err).not.toMatch(/\n\s+at /);
}

const readJson = (file: string) => JSON.parse(readFileSync(file, 'utf8'));
const metricLines = (runDir: string) =>
  readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8')
    .trimEnd()
    .split('\n')
    .map((line) => {
      const { time: _time, ...rest } = JSON.parse(line) as Record<string, unknown>;
      return JSON.stringify(rest);
    });
const loggedSteps = (runDir: string) =>
  existsSync(path.join(runDir, 'metrics.jsonl'))
    ? readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8').split('\n').length - 1
    : 0;
const waitFor = async (predicate: () => boolean, ms = 60_000) => {
  const until = Date.now() + ms;
  while (!predicate() && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
};

let reference: string[];
beforeAll(async () => {
  expect(existsSync(bin), `the CLI must be built first (${bin})`).toBe(true);
  writeFileSync(longConfig, JSON.stringify(longEpoch));
  const out = path.join(root, 'reference');
  const result = await finished(start(['train', '--config', longConfig, '--output', out]));
  expect(result.code, result.err).toBe(0);
  reference = metricLines(out);
}, 120_000);

describe('one writer per run', () => {
  it('a second train or train --resume of a run in progress is refused with exit 2 naming the holder', async () => {
    const out = path.join(root, 'locked');
    const first = start(['train', '--config', longConfig, '--output', out]);
    const done = finished(first);
    await waitFor(() => loggedSteps(out) > 3);
    // frozen, but alive and holding the run: whatever a second process does must not touch it
    process.kill(first.pid!, 'SIGSTOP');
    try {
      const holder = new RegExp(
        `is in use by another process: fisherlab train, pid ${first.pid} on this host is alive`,
      );
      expectInputError(fisherlab('train', '--config', longConfig, '--output', out), holder);
      expectInputError(fisherlab('train', '--resume', out), holder);
    } finally {
      process.kill(first.pid!, 'SIGCONT');
    }
    const result = await done;
    expect(result.code, result.err).toBe(0);
    expect(metricLines(out)).toEqual(reference);
  });
});

describe('signals', () => {
  it('SIGTERM mid-epoch checkpoints at the next step, not at the end of the epoch; --resume ends as an uninterrupted run', async () => {
    const out = path.join(root, 'sigterm-step');
    const child = start(['train', '--config', longConfig, '--output', out]);
    const done = finished(child);
    await waitFor(() => loggedSteps(out) > 5);
    child.kill('SIGTERM');
    const stopped = await done;
    expect(stopped.code, stopped.err).toBe(130);
    const pointer = readJson(path.join(out, 'checkpoint.json'));
    const meta = readJson(path.join(out, 'meta.json'));
    expect(meta).toMatchObject({ status: 'interrupted', step: pointer.step });
    expect(pointer.step).toBeGreaterThan(5);
    expect(pointer.step).toBeLessThan(STEPS_PER_EPOCH);
    const resumed = await finished(start(['train', '--resume', out]));
    expect(resumed.code, resumed.err).toBe(0);
    expect(metricLines(out)).toEqual(reference);
  });

  it('two signals at once (as a process group and a forwarder send them) are one stop: exit 130, and the run resumes to the same metrics', async () => {
    const out = path.join(root, 'sigterm-twice');
    const child = start(['train', '--config', longConfig, '--output', out]);
    const done = finished(child);
    await waitFor(() => loggedSteps(out) > 5);
    child.kill('SIGINT');
    child.kill('SIGINT');
    const stopped = await done;
    expect(stopped.code, stopped.err).toBe(130);
    const resumed = await finished(start(['train', '--resume', out]));
    expect(resumed.code, resumed.err).toBe(0);
    expect(metricLines(out)).toEqual(reference);
  });
});

describe('bad input and a bad environment exit 2, naming the file or key and the fix', () => {
  /** A small finished run to damage copies of. */
  let finishedRun: string;
  beforeAll(() => {
    finishedRun = path.join(root, 'small');
    const r = fisherlab(
      'train',
      ...tiny,
      ...tinyModel,
      '--lr',
      '0.1',
      '--epochs',
      '1',
      '--output',
      finishedRun,
    );
    expect(r.code, r.err).toBe(0);
  });
  const copyOf = (name: string) => {
    const copy = path.join(root, name);
    cpSync(finishedRun, copy, { recursive: true });
    return copy;
  };

  it('a bad FISHERLAB_NATIVE_THREADS exits 2 naming it, for a fresh run and a resume, and changes nothing', () => {
    const run = (...args: string[]) => {
      const r = spawnSync(process.execPath, [bin, ...args], {
        encoding: 'utf8',
        env: { ...env, FISHERLAB_NATIVE_THREADS: 'abc' },
        timeout: 120_000,
      });
      return { code: r.status, out: r.stdout, err: r.stderr };
    };
    const fresh = path.join(root, 'bad-threads');
    expectInputError(
      run(
        'train',
        ...tiny,
        ...tinyModel,
        '--backend',
        'auto',
        '--lr',
        '0.1',
        '--epochs',
        '1',
        '--output',
        fresh,
      ),
      /FISHERLAB_NATIVE_THREADS=abc is not a positive integer/,
    );
    expect(existsSync(fresh)).toBe(false);
    const copy = copyOf('bad-threads-resume');
    const meta = readFileSync(path.join(copy, 'meta.json'), 'utf8');
    expectInputError(run('train', '--resume', copy, '--epochs', '2'), /FISHERLAB_NATIVE_THREADS=abc/);
    expect(readFileSync(path.join(copy, 'meta.json'), 'utf8')).toBe(meta);
  });

  it('without checkpoint.json, train --output refuses and --resume continues from the checkpoint that verifies', () => {
    const copy = copyOf('no-pointer');
    rmSync(path.join(copy, 'checkpoint.json'));
    // as a run stopped at the end of its epoch leaves it
    writeFileSync(
      path.join(copy, 'meta.json'),
      JSON.stringify({ ...readJson(path.join(copy, 'meta.json')), status: 'interrupted' }),
    );
    const lines = metricLines(copy);
    expectInputError(
      fisherlab('train', ...tiny, ...tinyModel, '--lr', '0.1', '--epochs', '1', '--output', copy),
      /already holds a run with records or a checkpoint; use --resume .* --overwrite to replace it/,
    );
    expect(existsSync(path.join(copy, 'checkpoints'))).toBe(true);
    const resumed = fisherlab('train', '--resume', copy, '--epochs', '2');
    expect(resumed.code, resumed.err).toBe(0);
    expect(resumed.err).toMatch(
      /checkpoint\.json is missing; continuing from the newest checkpoint that verifies/,
    );
    expect(metricLines(copy).slice(0, lines.length - 1)).toEqual(lines.slice(0, -1));
    expect(readJson(path.join(copy, 'meta.json'))).toMatchObject({ status: 'completed', step: 4 });
  });

  it('a config.json edited by hand is refused under --resume, naming it', () => {
    const copy = copyOf('hand-edited');
    const file = path.join(copy, 'config.json');
    writeFileSync(file, readFileSync(file, 'utf8').replace('"lr": 0.1', '"lr": 0.5'));
    expectInputError(
      fisherlab('train', '--resume', copy, '--epochs', '2'),
      /hand-edited\/config\.json was changed after the run wrote it; restore it/,
    );
  });

  it('train without --lr says that --lr is required', () => {
    expectInputError(
      fisherlab('train', ...tiny, '--epochs', '1', '--output', path.join(root, 'no-lr')),
      /optimizer\.lr is required [\s\S]*\(on the command line: --lr\)/,
    );
  });

  it('a garbled config.json or a damaged checkpoint file under --resume', () => {
    const garbled = copyOf('garbled-config');
    writeFileSync(path.join(garbled, 'config.json'), '{"optimizer": {"lr": 0.1,');
    expectInputError(
      fisherlab('train', '--resume', garbled, '--epochs', '2'),
      /garbled-config\/config\.json is not valid JSON/,
    );
    const zeroed = copyOf('zeroed-optimizer');
    const dir = path.join(zeroed, readJson(path.join(zeroed, 'checkpoint.json')).dir);
    writeFileSync(
      path.join(dir, 'optimizer.bin'),
      new Uint8Array(readFileSync(path.join(dir, 'optimizer.bin')).length),
    );
    expectInputError(
      fisherlab('train', '--resume', zeroed, '--epochs', '2'),
      /optimizer\.bin: expected SHA-256 .*Fix: /,
    );
  });

  it('report --out that is a directory or cannot be created; one bad run is left out with a warning', () => {
    const dirOut = path.join(root, 'out-dir');
    mkdirSync(dirOut);
    expectInputError(fisherlab('report', finishedRun, '--out', dirOut), /out-dir: this path is a directory/);
    expectInputError(
      fisherlab('report', finishedRun, '--out', '/proc/fisherlab/report.html'),
      /cannot write \/proc\/fisherlab/,
    );
    const folder = path.join(root, 'mixed');
    cpSync(finishedRun, path.join(folder, 'good'), { recursive: true });
    mkdirSync(path.join(folder, 'bad'));
    writeFileSync(path.join(folder, 'bad', 'meta.json'), '{"status": "compl');
    const report = fisherlab('report', folder, '--out', path.join(root, 'mixed.html'));
    expect(report.code, report.err).toBe(0);
    expect(report.out).toContain('(1 runs,');
    expect(report.err).toMatch(/warning: left out .*bad: .*meta\.json: expected valid JSON/);
  });

  it('eval on a dataset of another image shape, trace --seed x, an unavailable --backend', async () => {
    const cifar = path.join(root, 'cifar10');
    await writeCifar10(cifar, 2, 4);
    expectInputError(
      fisherlab(
        'eval',
        '--checkpoint',
        finishedRun,
        '--dataset',
        'cifar10',
        '--data-dir',
        cifar,
        '--backend',
        'wasm',
      ),
      /dataset: expected 28x28x1 images, what the model in .* takes, found cifar10, whose images are 32x32x3.*on the command line: --dataset/,
    );
    const seed = fisherlab('trace', '--checkpoint', finishedRun, '--seed', 'x');
    expect(seed.code).toBe(2);
    expect(seed.err).toMatch(/--seed expects an integer, got 'x'/);
    const backend = fisherlab(
      'train',
      ...tiny,
      '--lr',
      '0.1',
      '--epochs',
      '1',
      '--backend',
      'tensorflow',
      '--dry-run',
      '--output',
      path.join(root, 'tf'),
    );
    // where tfjs-node is installed this starts; where it is not, it is an environment error
    if (backend.code !== 0) expectInputError(backend, /backend 'tensorflow' was requested but failed/);
  });

  it('--output under /proc fails at once instead of hanging', () => {
    expectInputError(
      fisherlab('train', ...tiny, '--lr', '0.1', '--epochs', '1', '--output', '/proc/fisherlab-x'),
      /cannot write \/proc\/fisherlab-x/,
    );
  });
});

describe('resume with flags', () => {
  it('refuses changed settings, listing the keys, and applies a changed --epochs, recording it in meta.json', () => {
    const out = path.join(root, 'resume-flags');
    expect(
      fisherlab('train', ...tiny, ...tinyModel, '--lr', '0.1', '--epochs', '1', '--output', out).code,
    ).toBe(0);
    const config = readFileSync(path.join(out, 'config.json'), 'utf8');
    expectInputError(
      fisherlab('train', '--resume', out, '--epochs', '3', '--lr', '0.5', '--seed', '4'),
      /cannot resume .*resume-flags with changed settings: optimizer\.lr 0\.1 → 0\.5, seed 0 → 4\. .*only epochs may change/,
    );
    expect(readFileSync(path.join(out, 'config.json'), 'utf8')).toBe(config);
    const more = fisherlab('train', '--resume', out, '--epochs', '3');
    expect(more.code, more.err).toBe(0);
    expect(readJson(path.join(out, 'config.json')).epochs).toBe(3);
    expect(readJson(path.join(out, 'meta.json'))).toMatchObject({
      status: 'completed',
      step: 6,
      resumes: [{ fromStep: 2, changes: [{ key: 'epochs', from: 1, to: 3 }] }],
    });
    expectInputError(
      fisherlab('train', '--resume', out, '--epochs', '2'),
      /has trained 6 steps already .* ask for at least 3 epochs/,
    );
  });
});

describe('runs that end early', () => {
  it('a run that diverges before its first checkpoint does not claim to keep one', () => {
    const out = path.join(root, 'early-divergence');
    const r = fisherlab('train', ...tiny, ...tinyModel, '--lr', '1e30', '--epochs', '1', '--output', out);
    expect(r.code, r.err).toBe(3);
    expect(r.out + r.err).toMatch(/diverged before its first checkpoint, so there is none to keep/);
    expect(r.out + r.err).not.toMatch(/last good checkpoint/);
    expect(existsSync(path.join(out, 'checkpoint.json'))).toBe(false);
  });

  it('a failed first start does not block its directory: training there again (or --resume with the fix) starts over', () => {
    const out = path.join(root, 'failed-start');
    const empty = path.join(root, 'no-data');
    mkdirSync(empty);
    const args = [...tiny, ...tinyModel, '--lr', '0.1', '--epochs', '1', '--output', out];
    const failed = fisherlab('train', ...args, '--dataset', 'fashion-mnist', '--data-dir', empty);
    expect(failed.code).toBe(2);
    expect(readJson(path.join(out, 'meta.json')).status).toBe('failed');
    const again = fisherlab('train', ...args);
    expect(again.code, again.err).toBe(0);
    expect(again.err).toMatch(/the previous attempt \(failed\) left no records; starting over/);

    // a first start that fails on a setting: --resume with that setting fixed starts it (no checkpoint yet)
    const out2 = path.join(root, 'failed-start-resume');
    const args2 = ['--arch', 'mlp', ...tinyModel, '--lr', '0.1', '--epochs', '1', '--output', out2];
    const tooMany = fisherlab('train', ...args2, '--train-subset', '100000');
    expect(tooMany.code).toBe(2);
    expect(tooMany.err).toMatch(
      /dataset\.trainSubset: expected at most .*, found 100000.*\(on the command line: --train-subset\)/,
    );
    const resumed = fisherlab('train', '--resume', out2, '--train-subset', '100');
    expect(resumed.code, resumed.err).toBe(0);
    expect(readJson(path.join(out2, 'meta.json')).status).toBe('completed');
  });
});
