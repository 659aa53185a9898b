import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseSweep, planSweep, runDirOf, runPlannedRun, writePlan } from '@fisherlab/sweeps';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { main } from './main.js';

/**
 * Every user error is exit 2 with a message that names the flag or file, never a stack trace:
 * the CLI's commands run with bad paths and bad flag values.
 */

const scratch = mkdtempSync(path.join(os.tmpdir(), 'fisherlab-user-errors-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Runs the CLI in-process; returns its exit code and everything it printed to stderr. */
async function fisherlab(...args: string[]) {
  const err: string[] = [];
  const spies = [
    vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => {
      err.push(a.map((x) => (x instanceof Error ? (x.stack ?? String(x)) : String(x))).join(' '));
    }),
    vi.spyOn(console, 'log').mockImplementation(() => {}),
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      err.push(String(chunk));
      return true;
    }),
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true),
  ];
  try {
    process.exitCode = undefined;
    return { code: await main(args), err: err.join('\n') };
  } finally {
    for (const spy of spies) spy.mockRestore();
    process.exitCode = undefined;
  }
}

const sweepDir = path.join(scratch, 'sweep');
const plan = planSweep(
  parseSweep({ name: 'errors', base: { optimizer: { lr: 0.1 }, steps: 2 }, seeds: [0] }, ''),
);
writePlan(sweepDir, plan);
const yamlFile = path.join(scratch, 'sweep.yaml');
writeFileSync(yamlFile, 'name: errors\n');
const runDir = path.join(scratch, 'a-run');
mkdirSync(runDir);
writeFileSync(path.join(runDir, 'config.json'), '{}');

const cases: [string[], RegExp][] = [
  [['report', '/nonexistent'], /\/nonexistent/],
  [['report', yamlFile], /sweep\.yaml: expected a directory, found a file/],
  [['report', scratch, '--early-epochs', '-1'], /--early-epochs/],
  [
    ['train', '--train-subset', '10', '--validation-fraction', '0.95', '--lr', '0.1', '--epochs', '1'],
    /dataset\.validationFraction: 0\.95 of dataset\.trainSubset 10 holds out 10 .*set dataset\.validationFraction from 0\.05 to below 0\.95.*--validation-fraction/s,
  ],
  [['train', '--lr', 'abc'], /--lr <rate>' argument 'abc'/],
  [['train', '--lr', '0.1', '--epochs', '0'], /--epochs <n>' argument '0'.*epochs/],
  [['train', '--lr', '0.1', '--train-subset', '-3'], /--train-subset <n>' argument '-3'/],
  [['train', '--lr', '0.1', '--validation-fraction', '1.5'], /--validation-fraction <f>' argument '1\.5'/],
  [['train', '--lr', '0.1', '--batch-size', '2.5'], /--batch-size <n>' argument '2\.5'/],
  [['train', '--config', '/nonexistent.yaml'], /\/nonexistent\.yaml/],
  [['train', '--resume', '/nonexistent'], /\/nonexistent/],
  [['train', '--preset', 'no-such-preset'], /no-such-preset/],
  [['train', '--lr', '0.1', '--optimizer', 'sgdd'], /--optimizer <name>' argument 'sgdd'/],
  [
    ['trace', '--checkpoint', '/nonexistent'],
    /checkpoint: expected .* found \/nonexistent, which does not exist.*--checkpoint/,
  ],
  [['eval', '--checkpoint', runDir, '--n', '0'], /--n/],
  [['trace', '--checkpoint', runDir, '--seed', 'x'], /--seed/],
  [['sweep', 'plan', '/nonexistent.yaml', '--out', path.join(scratch, 'p')], /\/nonexistent\.yaml/],
  [['sweep', 'plan', yamlFile, '--out', path.join(scratch, 'p')], /sweep\.yaml/],
  [['sweep', 'run', '/nonexistent'], /\/nonexistent/],
  [['sweep', 'run', sweepDir, '--index', 'abc'], /run index "abc" \(from --index\)/],
  [['sweep', 'run', sweepDir, '--index', '0', '--stale-after', '-5'], /--stale-after/],
  [['sweep', 'status', sweepDir, '--stale-after', 'abc'], /--stale-after/],
  [['sweep', 'status', '/nonexistent'], /\/nonexistent/],
  [['sweep', 'local', sweepDir, '--workers', '0'], /--workers/],
  [['sweep', 'local', sweepDir, '--only', '7'], /run index "7" .*out of range/],
  [['sweep', 'emit', 'slurm', sweepDir, '--concurrency', 'x'], /--concurrency/],
  [['sweep', 'emit', 'slurm', sweepDir, '--out', '/proc/no/such/file'], /--out/],
  [['sweep', 'emit', 'k8s', sweepDir, '--image', 'i', '--pvc', 'p', '--parallelism', '-2'], /--parallelism/],
  [['sweep', 'emit', 'k8s', sweepDir, '--image', 'i', '--pvc', 'p', '--env', 'NOEQUALS'], /--env/],
  [['sweep', 'emit', 'k8s', sweepDir, '--image', 'i'], /--pvc/],
  [['data', 'info', 'no-such-dataset'], /no-such-dataset/],
  [['doctor', '--bogus'], /--bogus/],
];

describe('user errors: exit 2, a message naming the flag or file, no stack trace', () => {
  it.each(cases)('fisherlab %j', async (args, names) => {
    const { code, err } = await fisherlab(...args);
    expect(err).toMatch(names);
    expect(err).not.toMatch(/^\s+at .*:\d+:\d+\)?$/m);
    expect(code, err).toBe(2);
  });
});

describe('--stale-after', () => {
  it('-5 cannot take over a run another host is writing (the flag and the library both refuse)', async () => {
    const run = plan.runs[0]!;
    const dir = runDirOf(sweepDir, run);
    mkdirSync(dir, { recursive: true });
    const lock = JSON.stringify({
      host: 'node-17',
      pid: 42,
      purpose: 'fisherlab sweep run',
      token: 'node-17-42',
      startedAt: new Date().toISOString(),
      heartbeatAt: new Date().toISOString(),
    });
    writeFileSync(path.join(dir, 'run.lock'), lock);
    const cli = await fisherlab('sweep', 'run', sweepDir, '--index', '0', '--stale-after', '-5');
    expect(cli.code).toBe(2);
    await expect(runPlannedRun(sweepDir, 0, { staleAfterMs: -300_000 })).rejects.toThrow(
      /stale-after must be a positive duration/,
    );
    expect(readFileSync(path.join(dir, 'run.lock'), 'utf8')).toBe(lock);
    // a valid threshold leaves the live claim alone as well
    const refused = await fisherlab('sweep', 'run', sweepDir, '--index', '0', '--stale-after', '90s');
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(/in use by another process: fisherlab sweep run, host node-17 pid 42/);
    expect(readFileSync(path.join(dir, 'run.lock'), 'utf8')).toBe(lock);
  });
});
