import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

/** The built `fisherlab` binary, as a user runs it. */
const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'bin.js');
const root = mkdtempSync(path.join(tmpdir(), 'fisherlab-cli-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const fisherlab = (...args: string[]) => fisherlabWith({}, ...args);
const fisherlabWith = (env: Record<string, string>, ...args: string[]) => {
  const r = spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    env: { ...process.env, CI: '1', ...env },
    timeout: 300_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

const tiny = [
  '--train-subset',
  '100',
  '--test-subset',
  '50',
  '--arch',
  'mlp',
  '--model-options',
  '{"hiddenUnits":[16]}',
  '--batch-size',
  '50',
];

describe('fisherlab', () => {
  it('--help lists every command', () => {
    const { code, out } = fisherlab('--help');
    expect(code).toBe(0);
    for (const command of ['doctor', 'train', 'trace', 'eval', 'report', 'data', 'demo', 'sweep'])
      expect(out).toContain(command);
  });

  it('doctor says which backends were tried, why each failed, and where the datasets are', () => {
    const { code, out } = fisherlab('doctor');
    expect(code).toBe(0);
    expect(out).toMatch(/tensorflow-gpu\s+@tensorflow\/tfjs-node-gpu is not installed|ok\s+tensorflow-gpu/);
    expect(out).toMatch(/active: (native|wasm|tensorflow|tensorflow-gpu|cpu)/);
    // The device as the backend reports it: here (no tfjs-node) the native backend or wasm, on the CPU.
    expect(out).toMatch(/device: (CPU|GPU)/);
    if (/active: wasm/.test(out)) {
      expect(out).toMatch(/device: CPU \(WebAssembly\)/);
      expect(out).toMatch(/memory ceiling: 4\.0 GiB \(tensors live in the wasm32 heap/);
    }
    if (/active: native/.test(out))
      expect(out).toMatch(/memory ceiling: [\d.]+ GiB \(tensors are ArrayBuffers/);
    expect(out).toMatch(/fashion-mnist-embedded\s+\S+/);
  });

  it('train --dry-run checks config, data, model and output without training', () => {
    const output = path.join(root, 'dry');
    const { code, out } = fisherlab(
      'train',
      ...tiny,
      '--lr',
      '0.1',
      '--epochs',
      '1',
      '--output',
      output,
      '--dry-run',
    );
    expect(code).toBe(0);
    expect(out).toMatch(/config: valid/);
    expect(out).toMatch(/data: fashion-mnist-embedded: 100 train \/ 50 test, 28x28x1, 10 classes/);
    expect(out).toMatch(/model: mlp, 12,730 parameters/);
    expect(out).toMatch(/output: .*dry \(writable\)/);
  });

  it('bad input exits 2 with the key, the expectation and the fix', () => {
    const bad = path.join(root, 'bad.json');
    writeFileSync(bad, JSON.stringify({ optimizer: { lr: -1 }, epochs: 1, learning_rate: 3 }));
    let r = fisherlab('train', '--config', bad);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/optimizer\.lr: Too small: expected number to be >0/);
    expect(r.err).toMatch(/unknown key learning_rate; allowed here:/);
    r = fisherlab('train', '--lr', 'fast', '--epochs', '1');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/expected a number for optimizer\.lr, got 'fast'/);
    r = fisherlab(
      'train',
      '--lr',
      '0.1',
      '--epochs',
      '1',
      '--dataset',
      'cifar10',
      '--data-dir',
      path.join(root, 'nowhere'),
      '--output',
      path.join(root, 'missing-data-run'),
    );
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/dataset 'cifar10'/);
    expect(r.err).toMatch(/nowhere/);
    const file = path.join(root, 'a-file');
    writeFileSync(file, 'x');
    r = fisherlab('train', ...tiny, '--lr', '0.1', '--epochs', '1', '--output', path.join(file, 'run'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/choose (a writable|another) --output/);
  });

  it('FISHERLAB_BACKEND chooses the backend of a run whose config leaves it at auto; --backend wins over it', () => {
    const backendOf = (name: string, env: Record<string, string>, ...flags: string[]) => {
      const output = path.join(root, name);
      const r = fisherlabWith(
        env,
        'train',
        ...tiny,
        '--lr',
        '0.1',
        '--steps',
        '1',
        '--output',
        output,
        ...flags,
      );
      expect(r.code, r.err).toBe(0);
      return JSON.parse(readFileSync(path.join(output, 'meta.json'), 'utf8')).backend;
    };
    expect(backendOf('env-wasm', { FISHERLAB_BACKEND: 'wasm' })).toBe('wasm');
    expect(backendOf('env-cpu', { FISHERLAB_BACKEND: 'cpu' })).toBe('cpu');
    expect(backendOf('flag-wins', { FISHERLAB_BACKEND: 'wasm' }, '--backend', 'cpu')).toBe('cpu');
  });

  it('trains, then trace and eval measure the saved run', () => {
    const output = path.join(root, 'run');
    const trained = fisherlab(
      'train',
      ...tiny,
      '--lr',
      '0.1',
      '--epochs',
      '1',
      '--output',
      output,
      '--track-subset',
      '32',
    );
    expect(trained.code, trained.err).toBe(0);
    expect(trained.out).toMatch(/completed: 2 steps/);
    const trace = fisherlab('trace', '--checkpoint', output, '--estimator', 'exact', '--n', '20', '--json');
    expect(trace.code, trace.err).toBe(0);
    const estimate = JSON.parse(trace.out);
    expect(estimate).toMatchObject({ estimator: 'exact', examples: 20, quantity: 'fisher' });
    expect(estimate.value).toBeGreaterThan(0);
    expect(estimate.standardError).toBeGreaterThan(0);
    const evaluated = fisherlab('eval', '--checkpoint', output, '--split', 'test', '--json');
    expect(evaluated.code, evaluated.err).toBe(0);
    expect(JSON.parse(evaluated.out)).toMatchObject({ split: 'test', examples: 2000 });
    const report = fisherlab('report', output, '--out', path.join(root, 'report.html'));
    expect(report.code, report.err).toBe(0);
    expect(report.out).toMatch(/report: .*report\.html \(1 runs/);
  });

  it('sweep plan --dry-run checks every run and writes nothing', () => {
    const out = path.join(root, 'sweep-dry');
    const example = path.resolve(path.dirname(bin), '..', '..', '..', 'examples', 'sweeps', 'tiny-grid.yaml');
    const { code, out: stdout, err } = fisherlab('sweep', 'plan', example, '--out', out, '--dry-run');
    expect(code, err).toBe(0);
    expect(stdout).toMatch(/4 runs checked; nothing was written/);
    expect(stdout.match(/config: valid/g)).toHaveLength(4);
    expect(existsSync(path.join(out, 'plan.json'))).toBe(false);
  });

  it('data info says where the embedded subset is', () => {
    mkdirSync(path.join(root, 'empty'), { recursive: true });
    const { code, out } = fisherlab('data', 'info', 'fashion-mnist-embedded');
    expect(code).toBe(0);
    expect(out).toMatch(/found: .*fashion-mnist-embedded/);
  });
});
