import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { acquireLock, runLockFile } from '@fisherlab/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** The built `fisherlab` binary, as a user runs it. */
const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'bin.js');
const root = mkdtempSync(path.join(tmpdir(), 'fisherlab-curvature-'));
const run = path.join(root, 'run');
afterAll(() => rmSync(root, { recursive: true, force: true }));

const fisherlab = (...args: string[]) => {
  const r = spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    env: { ...process.env, CI: '1' },
    timeout: 300_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

const metricLines = () => readFileSync(path.join(run, 'metrics.jsonl'), 'utf8').trim().split('\n');

beforeAll(() => {
  const trained = fisherlab(
    'train',
    ...[
      '--train-subset',
      '100',
      '--test-subset',
      '50',
      '--arch',
      'mlp',
      '--model-options',
      '{"hiddenUnits":[8]}',
    ],
    ...['--batch-size', '50', '--lr', '0.1', '--epochs', '1', '--output', run, '--track-subset', '32'],
  );
  expect(trained.code, trained.err).toBe(0);
});

describe('fisherlab curvature', () => {
  it("measures a run's checkpoint and appends one curvature record per matrix to metrics.jsonl", () => {
    const before = metricLines().length;
    const small = ['--n', '20', '--batch-size', '8', '--k', '2', '--steps', '12'];
    const density = ['--density-runs', '2', '--density-steps', '8', '--bins', '20'];
    // --dataset: the first N of the split, the examples `fisherlab trace` reads (compared below).
    const same = ['--dataset', 'default'];
    const r = fisherlab(
      'curvature',
      '--checkpoint',
      run,
      ...same,
      ...small,
      ...density,
      '--diag',
      'exact',
      '--json',
    );
    expect(r.code, r.err).toBe(0);
    const printed = r.out
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    const appended = metricLines()
      .slice(before)
      .map((line) => JSON.parse(line));
    expect(appended).toEqual(printed);
    expect(appended.map((rec) => rec.matrix)).toEqual(['hessian', 'fisher']);
    const [hessian, fisher] = appended;
    expect(hessian).toMatchObject({ kind: 'curvature', step: 2, examples: 20, split: 'train' });
    expect(hessian.topEigenvalues).toHaveLength(2);
    expect(hessian.topEigenvalues[0]).toBeGreaterThanOrEqual(hessian.topEigenvalues[1]);
    expect(fisher.density.grid).toHaveLength(20);
    // Σ diag(F) exact equals `fisherlab trace --estimator exact` on the same examples.
    const trace = JSON.parse(
      fisherlab('trace', '--checkpoint', run, ...same, '--estimator', 'exact', '--n', '20', '--json').out,
    );
    expect(Math.abs(fisher.diagFisher.trace - trace.value) / trace.value).toBeLessThan(1e-4);
    expect(Object.keys(fisher.diagFisher.perLayer).sort()).toEqual(Object.keys(trace.perLayer).sort());
    // The report reads the records and draws the spectral density.
    const report = fisherlab('report', run, '--out', path.join(root, 'report.html'));
    expect(report.code, report.err).toBe(0);
    expect(readFileSync(path.join(root, 'report.html'), 'utf8')).toContain('Spectral density');
  });

  it('bad flags name the flag and the choices; --no-record leaves metrics.jsonl alone', () => {
    const bad = fisherlab('curvature', '--checkpoint', run, '--measure', 'top-eigenvalues,trace');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--measure: 'trace' is not one of top-eigenvalues, density, diag-fisher/);
    const before = metricLines().length;
    const r = fisherlab(
      'curvature',
      ...[
        '--checkpoint',
        run,
        '--measure',
        'top-eigenvalues',
        '--matrix',
        'fisher',
        '--n',
        '1000',
        '--k',
        '1',
      ],
      ...['--steps', '10', '--no-record'],
    );
    expect(r.code, r.err).toBe(0);
    // Without --dataset: the examples the run trained on, its 100-example training subset.
    expect(r.out).toMatch(/Fisher at step 2 .* 100 train examples\n {2}top eigenvalues: /);
    expect(metricLines()).toHaveLength(before);
  });

  it('a run that is still being written (its lock held) is refused before any measurement', () => {
    const lock = acquireLock(runLockFile(run), { purpose: 'a test standing in for fisherlab train' });
    try {
      const r = fisherlab('curvature', '--checkpoint', run, '--measure', 'top-eigenvalues', '--n', '10');
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/is in use by another process: a test standing in for fisherlab train/);
      expect(r.out).toBe('');
    } finally {
      lock.release();
    }
  });
});
