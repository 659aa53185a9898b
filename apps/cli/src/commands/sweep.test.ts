import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { afterAll, describe, expect, it, vi } from 'vitest';
import YAML from 'yaml';
import { main } from '../main.js';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'fisherlab-sweep-cli-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const example = path.resolve(import.meta.dirname, '../../../../examples/sweeps/tiny-grid.yaml');

/** Runs the CLI in-process and returns its exit code and what it printed. */
async function fisherlab(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  const error = vi
    .spyOn(console, 'error')
    .mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out.push(String(chunk));
    return true;
  });
  try {
    process.exitCode = undefined;
    const code = await main(args);
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    log.mockRestore();
    error.mockRestore();
    write.mockRestore();
    process.exitCode = undefined;
  }
}

describe('fisherlab sweep (commands)', () => {
  const dir = path.join(scratch, 'tiny');

  it('plan prints the count, and re-planning says the runs were kept', async () => {
    const first = await fisherlab('sweep', 'plan', example, '--out', dir);
    expect(first.code).toBe(0);
    expect(first.out).toBe(`4 runs planned in ${path.join(dir, 'plan.json')}`);
    const again = await fisherlab('sweep', 'plan', example, '--out', dir);
    expect(again.out).toContain('4 were already planned there (same ids), 0 are new');
  });

  it('status counts every run as pending before anything ran', async () => {
    const { code, out } = await fisherlab('sweep', 'status', dir, '--json');
    expect(code).toBe(0);
    expect(JSON.parse(out).summary).toEqual({ done: 0, running: 0, failed: 0, pending: 4, damaged: 0 });
  });

  it('emit slurm writes a script bash accepts, and creates the log directory', async () => {
    const file = path.join(scratch, 'tiny.sbatch');
    const { code } = await fisherlab(
      'sweep',
      'emit',
      'slurm',
      dir,
      '--out',
      file,
      '--concurrency',
      '2',
      '--gpus',
      '1',
    );
    expect(code).toBe(0);
    const script = readFileSync(file, 'utf8');
    expect(script).toContain('#SBATCH --array=0-3%2');
    execFileSync('bash', ['-n', file]);
    expect(existsSync(path.join(dir, 'logs'))).toBe(true);
  });

  it('emit k8s writes a valid Indexed Job, and refuses to guess the volume', async () => {
    const missing = await fisherlab('sweep', 'emit', 'k8s', dir, '--image', 'fisherlab:cpu');
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('pass --pvc CLAIM');
    const file = path.join(scratch, 'job.yaml');
    const args = [
      '--image',
      'fisherlab:cpu',
      '--pvc',
      'sweeps',
      '--env',
      'A=1',
      '--retries',
      '0',
      '--out',
      file,
    ];
    const { code } = await fisherlab('sweep', 'emit', 'k8s', dir, ...args);
    expect(code).toBe(0);
    const job = YAML.parse(readFileSync(file, 'utf8'));
    expect(() => new Job(job).validate()).not.toThrow();
    expect(job.spec).toMatchObject({ completions: 4, parallelism: 4, backoffLimitPerIndex: 0 });
    expect(job.spec.template.spec.containers[0].env).toEqual([
      { name: 'A', value: '1' },
      { name: 'FISHERLAB_NATIVE_THREADS', value: '1' }, // the plan's thread count
    ]);
  });

  it('run names the range when the index is out of it', async () => {
    const { code, err } = await fisherlab('sweep', 'run', dir, '--index', '4');
    expect(code).toBe(2);
    expect(err).toContain(`run index "4" (from --index) is out of range: the plan ${dir} has runs 0 to 3`);
  });
});
