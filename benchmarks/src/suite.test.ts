import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { SLOW_REFERENCE_MARK } from './reference.js';

const here = dirname(fileURLToPath(import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'fisherlab-suite-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/**
 * An interpreter for FISHERLAB_PYTHON that stands in for python3-torch (not installed in CI): it
 * answers the worker protocol's hello with a reply recorded from the real torch worker
 * (fixtures/torch-hello-*.json) and refuses any measurement.
 */
function replayInterpreter(fixture: string): string {
  const script = join(work, 'replay-worker.mjs');
  writeFileSync(
    script,
    `import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
const hello = JSON.parse(readFileSync(process.env.REPLAY_HELLO, 'utf8'));
// REPLAY_MEASURE=answer: prepare and time answer with fixed figures; =fail-time: time fails as
// PyTorch does when malloc fails; unset: every measurement is refused.
const measure = process.env.REPLAY_MEASURE;
createInterface({ input: process.stdin }).on('line', (line) => {
  const { id, cmd } = JSON.parse(line);
  const reply = (result) => console.log(JSON.stringify({ id, result }));
  const fail = (error) => console.log(JSON.stringify({ id, error }));
  if (cmd === 'hello') reply(hello);
  else if (cmd === 'exit') { reply({}); process.exit(0); }
  else if (cmd === 'release') reply({});
  else if (measure && cmd === 'prepare') reply({ warmupMs: 10, value: 0 });
  else if (measure === 'answer' && cmd === 'time') reply({ wallMs: 10, cpuMs: 20, value: 0, maxRssBytes: 2 ** 30 });
  else if (measure === 'fail-time' && cmd === 'time')
    fail('RuntimeError: [enforce fail at alloc_cpu.cpp:83] DefaultCPUAllocator: not enough memory: you tried to allocate 1073741824 bytes.');
  else fail('the replay worker answers only hello, not ' + cmd);
});
`,
  );
  const interpreter = join(work, `python-${fixture}`);
  writeFileSync(
    interpreter,
    `#!/bin/sh\nREPLAY_HELLO='${join(here, 'fixtures', `torch-hello-${fixture}.json`)}' exec '${process.execPath}' '${script}' "$@"\n`,
  );
  chmodSync(interpreter, 0o755);
  return interpreter;
}

function suite(args: string[], python: string, extraEnv: Record<string, string> = {}) {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extraEnv, FISHERLAB_PYTHON: python };
  delete env['FISHERLAB_TORCH_LIBRARY_PATH'];
  const run = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--conditions=source', join(here, 'suite.ts'), ...args],
    {
      encoding: 'utf8',
      env,
      timeout: 90_000,
    },
  );
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

const noStackTrace = (text: string) => expect(text).not.toMatch(/^\s+at /m);

describe('pnpm bench against a PyTorch on the reference BLAS (recorded hello)', () => {
  const python = replayInterpreter('reference-blas');

  it('refuses to measure: exit 2, nothing written, the fixes named', () => {
    const out = join(work, 'results');
    const run = suite(
      ['--backends', 'native', '--models', 'simplecnn', '--tasks', 'sgd-step', '--out', out],
      python,
    );
    expect(run.status).toBe(2);
    expect(run.stdout).toContain(
      'BLAS: the reference BLAS (netlib, unoptimized), /usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0',
    );
    expect(run.stdout).not.toContain('FisherLab/PyTorch');
    expect(run.stderr).toContain('PyTorch runs on the reference BLAS');
    expect(run.stderr).toContain('scripts/bench-setup.sh');
    expect(run.stderr).toContain('FISHERLAB_TORCH_LIBRARY_PATH=');
    noStackTrace(run.stderr);
    expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
  });

  it('--check-reference says the same and exits 2', () => {
    const run = suite(['--check-reference'], python);
    expect(run.status).toBe(2);
    expect(run.stdout).toContain('(SLOW REFERENCE)');
    expect(run.stderr).toContain('--allow-slow-reference');
  });

  it('--allow-slow-reference lets it through, saying every ratio will be marked', () => {
    const run = suite(['--check-reference', '--allow-slow-reference'], python);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(`every ratio is marked ${SLOW_REFERENCE_MARK}`);
  });
});

describe('pnpm bench against a PyTorch on OpenBLAS (recorded hello)', () => {
  it('passes the check', () => {
    const run = suite(['--check-reference'], replayInterpreter('openblas-system'));
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/Reference: PyTorch 1\.13\.0a0 on 2 threads; BLAS: OpenBLAS/);
    expect(run.stdout).not.toContain('SLOW REFERENCE');
  });
});

describe('pnpm bench with a bad flag', () => {
  it('exits 2 naming the flag and the allowed values, without a stack trace', () => {
    const run = suite(['--backends', 'tpu'], '/nonexistent/python3');
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(
      "--backends: 'tpu' is not one of auto, native, wasm-native, wasm, wasm-2t, cpu",
    );
    noStackTrace(run.stderr);
  });
});

describe('a side that fails: the row says why, the other side is still measured, the suite goes on', () => {
  const python = replayInterpreter('openblas-system');
  const out = join(work, 'failures');

  it("FisherLab stopped at the cell timeout: each row shows PyTorch's time and peak RSS beside the failure", () => {
    // The tfjs cpu backend takes minutes per SimpleCNN step at batch 128: a 1 s limit stops each.
    const run = suite(
      [
        ...['--backends', 'cpu', '--full', '--models', 'simplecnn', '--tasks', 'sgd-step,penalty-k1'],
        ...['--reps', '2', '--cell-timeout', '1', '--out', out, '--name', 'timeout'],
      ],
      python,
      { REPLAY_MEASURE: 'answer' },
    );
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('the FisherLab worker ended; starting a new one for the next cell');
    const md = readFileSync(join(out, 'timeout.md'), 'utf8');
    for (const task of ['sgd-step', 'penalty-k1']) {
      expect(md).toContain(
        `| cpu | simplecnn | 32x32x3, 10 classes (CIFAR-10) | ${task} | 128 | FAILED: timeout | 10 | - | - | - | 1.00 GiB | - | 0 | NOT MET: wall time ≤ 1.0x PyTorch's; NOT MET: runs, peak resident memory ≤ 1.5x PyTorch's |`,
      );
      expect(md).toContain(
        `- NOT MET: cpu simplecnn ${task} at batch 128: wall time ≤ 1.0x PyTorch's (measured nothing: FisherLab failed: timeout, bound 1.00)`,
      );
    }
    expect(md).toMatch(
      /- cpu simplecnn sgd-step: FisherLab failed \(timeout\): fisherlab cpu worker killed: 'prepare' took longer than 1 s/,
    );
    const json = JSON.parse(readFileSync(join(out, 'timeout.json'), 'utf8'));
    expect(json.cells.map((c: { pytorch: { runs: unknown[] } }) => c.pytorch.runs.length)).toEqual([2, 2]);
    // The backend in effect and its memory ceiling: the cpu backend's tensors are bounded by memory, not a heap.
    expect(md).toMatch(/FisherLab: cpu: cpu backend \(1 thread\), memory ceiling \d+\.\d\d GiB \(/);
    expect(json.machine.memoryCeilings.cpu.bytes).toBeGreaterThan(0);
    expect(json.machine.memoryCeilings.cpu.reason).not.toMatch(/wasm/);
  });

  it('PyTorch failing with its allocator out of memory leaves the FisherLab row measured', () => {
    const run = suite(
      [
        ...['--backends', 'wasm', '--models', 'simplecnn', '--tasks', 'forward', '--batch', '8'],
        ...['--reps', '2', '--out', out, '--name', 'pytorch-oom'],
      ],
      python,
      { REPLAY_MEASURE: 'fail-time' },
    );
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(
      /wasm +simplecnn forward .*FisherLab +\d+ ms +PyTorch +- ms.*\(pytorch failed: pytorch: RuntimeError/,
    );
    const json = JSON.parse(readFileSync(join(out, 'pytorch-oom.json'), 'utf8'));
    expect(json.cells[0].fisherlab.runs).toHaveLength(2);
    expect(json.cells[0].failures).toEqual([
      {
        side: 'pytorch',
        kind: 'out of memory',
        message: expect.stringContaining('DefaultCPUAllocator: not enough memory'),
      },
    ]);
    const md = readFileSync(join(out, 'pytorch-oom.md'), 'utf8');
    expect(md).toMatch(
      /\| wasm \| simplecnn \| 32x32x3, 10 classes \(CIFAR-10\) \| forward \| 8 \| \d+ \| - \| - \| - \| \d\.\d\d GiB \| - \| - \| 2 \| - \|/,
    );
    expect(md).toContain('- wasm simplecnn forward: PyTorch failed (out of memory): pytorch: RuntimeError');
  });
});

function torchInstalled(): boolean {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const systemBlas = '/usr/lib/x86_64-linux-gnu/libblas.so.3';

describe.skipIf(!existsSync(systemBlas) || !torchInstalled())(
  "this machine's python3-torch (real worker)",
  () => {
    it("is refused exactly when dpkg says libblas.so.3 comes from the reference BLAS's package", () => {
      const owner = execFileSync('dpkg', ['-S', realpathSync(systemBlas)], { encoding: 'utf8' }).split(
        ':',
      )[0];
      const run = suite(['--check-reference'], '/usr/bin/python3');
      expect(run.stdout).toContain('Reference: PyTorch');
      expect(run.status).toBe(owner === 'libblas3' ? 2 : 0);
    });
  },
);
