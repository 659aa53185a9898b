import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubernetesJob } from './emit-k8s.js';
import { ensureBuiltCli, runProcess } from './fixtures/built-cli.js';
import { planSweep, readPlan, runDirOf, writePlan } from './plan.js';
import { parseSweep } from './spec.js';

/**
 * The image the Kubernetes manifest names, without Docker (no engine and no base image can be
 * had on FisherLab's machines): the Dockerfile's own lines are read, the files it copies are
 * checked, and the command lines the image runs (its ENTRYPOINT and CMD, and the manifest's
 * command over them) are run against the repository laid out as the Dockerfile copies it
 * (WORKDIR = this checkout, the `fisherlab` link the Dockerfile makes on the PATH).
 */

const repo = path.resolve(import.meta.dirname, '..', '..', '..');
const dockerfile = readFileSync(path.join(repo, 'Dockerfile'), 'utf8');
const scratch = mkdtempSync(path.join(os.tmpdir(), 'fisherlab-dockerfile-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Instructions with their continuation lines joined, comments dropped. */
const instructions = dockerfile
  .replace(/\\\n/g, ' ')
  .split('\n')
  .filter((line) => line.trim() && !line.trim().startsWith('#'))
  .map((line) => {
    const [keyword, ...rest] = line.trim().split(/\s+/);
    return { keyword: keyword!.toUpperCase(), args: rest.join(' ') };
  });
const only = (keyword: string) => instructions.filter((i) => i.keyword === keyword);
const execForm = (keyword: string): string[] => JSON.parse(only(keyword).at(-1)!.args) as string[];

const workdir = only('WORKDIR').at(-1)!.args;
/** `ln -s TARGET LINK` in a RUN line: where the image's `fisherlab` command comes from. */
const link = only('RUN')
  .map((i) => /ln -s (\S+) (\S+\/fisherlab)\b/.exec(i.args))
  .find((match) => match !== null);
let pathWithImageBin = '';

beforeAll(() => {
  const bin = ensureBuiltCli();
  expect(link, 'the Dockerfile links fisherlab onto the PATH').not.toBeNull();
  const [, target, linkPath] = link!;
  // the image's files are this checkout's: /opt/fisherlab/apps/cli/dist/bin.js is our build
  const inCheckout = path.join(repo, path.relative(workdir, target!));
  expect(inCheckout).toBe(bin);
  chmodSync(bin, 0o755); // as the Dockerfile's RUN does
  const binDir = path.join(scratch, path.dirname(linkPath!));
  mkdirSync(binDir, { recursive: true });
  symlinkSync(inCheckout, path.join(scratch, linkPath!));
  pathWithImageBin = `${binDir}:${path.dirname(process.execPath)}:${process.env['PATH'] ?? ''}`;
}, 300_000);

const inImage = (argv: string[], env: Record<string, string> = {}) => {
  const { SLURM_ARRAY_TASK_ID: _a, JOB_COMPLETION_INDEX: _b, ...outside } = process.env;
  return runProcess(argv[0]!, argv.slice(1), { ...outside, ...env, PATH: pathWithImageBin });
};

describe('the Dockerfile', () => {
  it('copies files that exist: the build context with its lockfile, and the CLI the link points at', () => {
    const copies = only('COPY').filter((i) => !i.args.includes('--from='));
    expect(copies.length).toBeGreaterThan(0);
    for (const copy of copies) {
      const words = copy.args.split(/\s+/).filter((w) => !w.startsWith('--'));
      for (const source of words.slice(0, -1)) expect(existsSync(path.join(repo, source)), source).toBe(true);
    }
    expect(dockerfile).toContain('pnpm install --frozen-lockfile');
    expect(existsSync(path.join(repo, 'pnpm-lock.yaml'))).toBe(true);
    const cliPackage = JSON.parse(readFileSync(path.join(repo, 'apps/cli/package.json'), 'utf8'));
    expect(path.join(workdir, 'apps/cli', cliPackage.bin.fisherlab)).toBe(link?.[1]);
  });

  it('runs its ENTRYPOINT with its CMD (the help)', async () => {
    const entrypoint = execForm('ENTRYPOINT');
    const help = await inImage([...entrypoint, ...execForm('CMD')]);
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toContain('Usage: fisherlab');
  });

  it("runs a planned run the way the Kubernetes manifest's pod does, and as `docker run IMAGE sweep run DIR`", async () => {
    const dir = path.join(scratch, 'sweep');
    const plan = planSweep(
      parseSweep(
        {
          name: 'image',
          base: {
            dataset: { name: 'default', trainSubset: 64, testSubset: 32 },
            model: { arch: 'mlp', options: { hiddenUnits: [8] } },
            optimizer: { lr: 0.1 },
            batchSize: 32,
            steps: 4,
            tracking: { subset: 0 },
            backend: 'wasm',
          },
          seeds: [0, 1],
        },
        '',
      ),
    );
    writePlan(dir, plan);
    const container = kubernetesJob(plan, { image: 'fisherlab:cpu', pvc: 'sweeps' }).spec!.template.spec!
      .containers[0]!;
    const mount = container.volumeMounts![0]!.mountPath;
    const podEnv = Object.fromEntries((container.env ?? []).map((e) => [e.name, e.value!]));
    // the pod's command replaces the ENTRYPOINT; its volume at /sweep is the plan directory
    const command = container.command!.map((word) => (word === mount ? dir : word));
    expect(command[0]).toBe(path.basename(link![2]!));
    const pod = await inImage(command, { ...podEnv, JOB_COMPLETION_INDEX: '0' });
    expect(pod.code, pod.stderr).toBe(0);
    const viaEntrypoint = await inImage([...execForm('ENTRYPOINT'), 'sweep', 'run', dir, '--index', '1']);
    expect(viaEntrypoint.code, viaEntrypoint.stderr).toBe(0);
    for (const run of readPlan(dir).runs) {
      const meta = JSON.parse(readFileSync(path.join(runDirOf(dir, run), 'meta.json'), 'utf8'));
      expect(meta.status).toBe('completed');
    }
  }, 300_000);
});
