import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
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
createInterface({ input: process.stdin }).on('line', (line) => {
  const { id, cmd } = JSON.parse(line);
  if (cmd === 'hello') console.log(JSON.stringify({ id, result: hello }));
  else if (cmd === 'exit') { console.log(JSON.stringify({ id, result: {} })); process.exit(0); }
  else console.log(JSON.stringify({ id, error: 'the replay worker answers only hello, not ' + cmd }));
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

function suite(args: string[], python: string) {
  const env: NodeJS.ProcessEnv = { ...process.env, FISHERLAB_PYTHON: python };
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
    expect(run.stderr).toContain("--backends: 'tpu' is not one of native, wasm, wasm-2t, cpu");
    noStackTrace(run.stderr);
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
