import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { canonicalJson, planSweep, readPlan, runId, writePlan } from './plan.js';
import { loadSweepFile, parseSweep } from './spec.js';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'fisherlab-plan-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const repo = path.resolve(import.meta.dirname, '../../..');
const examples = path.join(repo, 'examples/sweeps');
/** The CLI's shipped presets, read as the CLI's loader reads them (the package takes a loader). */
const loadPreset = (name: string) =>
  JSON.parse(readFileSync(path.join(repo, 'apps/cli/presets', `${name}.json`), 'utf8')).config;

const base = {
  dataset: { name: 'default', trainSubset: 64 },
  model: { arch: 'mlp' },
  optimizer: { name: 'sgd', lr: 0.1 },
  steps: 4,
};

function sweep(extra: Record<string, unknown>) {
  return parseSweep({ name: 'unit', base, ...extra }, '/sweeps/unit.yaml');
}

const tmp = () => mkdtempSync(path.join(scratch, 'fisherlab-plan-'));

describe('planSweep', () => {
  it('expands seeds x grid x zip x variants, the first axis slowest', () => {
    const plan = planSweep(
      sweep({
        grid: { 'optimizer.lr': [0.1, 0.01] },
        zip: [{ batchSize: [16, 32], 'optimizer.momentum': [0, 0.9] }],
        variants: [{ 'penalty.kind': 'none' }, { 'penalty.kind': 'fisher', 'penalty.alpha': 0.1 }],
        seeds: { count: 2, start: 5 },
      }),
    );
    expect(plan.runs).toHaveLength(2 * 2 * 2 * 2);
    expect(plan.axes).toEqual([
      { label: 'seed', size: 2 },
      { label: 'optimizer.lr', size: 2 },
      { label: 'batchSize+optimizer.momentum', size: 2 },
      { label: 'variants', size: 2 },
    ]);
    const tuples = plan.runs.map((r) => [
      r.config.seed,
      r.config.optimizer.lr,
      r.config.batchSize,
      r.config.optimizer.momentum,
      r.config.penalty.kind,
    ]);
    expect(tuples.slice(0, 4)).toEqual([
      [5, 0.1, 16, 0, 'none'],
      [5, 0.1, 16, 0, 'fisher'],
      [5, 0.1, 32, 0.9, 'none'],
      [5, 0.1, 32, 0.9, 'fisher'],
    ]);
    expect(tuples[15]).toEqual([6, 0.01, 32, 0.9, 'fisher']);
    expect(plan.runs.map((r) => r.index)).toEqual([...Array(16).keys()]);
    expect(new Set(plan.runs.map((r) => r.id)).size).toBe(16);
    // unvaried keys come from the base, defaults from the run config schema
    expect(plan.runs[3]!.config.dataset.trainSubset).toBe(64);
    expect(plan.runs[3]!.config.penalty.alpha).toBe(0.1);
    expect(plan.runs[3]!.name).toBe('seed=5 lr=0.1 batchSize=32 momentum=0.9 kind=fisher alpha=0.1');
    expect(plan.runs[3]!.config.output).toBe(`runs/${plan.runs[3]!.id}`);
    expect(plan.runs[3]!.config.tags).toEqual(['sweep:unit']);
  });

  it('derives each id from the resolved config alone: sha256 of its sorted-key JSON without output, name and tags', () => {
    const plan = planSweep(sweep({ grid: { 'optimizer.lr': [0.1, 0.01] } }));
    for (const run of plan.runs) {
      const { output: _o, name: _n, tags: _t, ...rest } = run.config;
      // an independent canonical form: re-insert the keys in reverse order at every level
      const reversed = (v: unknown): unknown =>
        v && typeof v === 'object' && !Array.isArray(v)
          ? Object.fromEntries(
              Object.keys(v)
                .sort()
                .map((k) => [k, reversed((v as Record<string, unknown>)[k])]),
            )
          : v;
      const expected = createHash('sha256')
        .update(JSON.stringify(reversed(rest)))
        .digest('hex')
        .slice(0, 12);
      expect(run.id).toBe(expected);
      expect(runId({ ...run.config, name: 'other', output: '/elsewhere', tags: ['x'] })).toBe(run.id);
    }
    expect(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: 3 } })).toBe(
      '{"a":{"c":3,"d":[2,{"y":2,"z":1}]},"b":1}',
    );
  });

  it('is deterministic: the same sweep writes a byte-identical plan.json', () => {
    const spec = { grid: { 'optimizer.lr': [0.1, 0.01, 0.001] }, seeds: [0, 1] };
    const a = tmp();
    const b = tmp();
    writePlan(a, planSweep(sweep(spec)));
    writePlan(b, planSweep(sweep(spec)));
    expect(readFileSync(path.join(a, 'plan.json'), 'utf8')).toBe(
      readFileSync(path.join(b, 'plan.json'), 'utf8'),
    );
  });
});

describe('planSweep over time and on the shipped examples', () => {
  it('keeps ids under re-planning: extended axes, reordered values, renamed sweep', () => {
    const first = planSweep(sweep({ grid: { 'optimizer.lr': [0.1, 0.01] }, seeds: [0] }));
    const dir = tmp();
    expect(writePlan(dir, first)).toMatchObject({ runs: 2, kept: 0, added: 2 });

    const extended = planSweep(
      parseSweep(
        {
          name: 'renamed',
          base,
          tags: ['extra'],
          grid: { 'optimizer.lr': [0.001, 0.01, 0.1] },
          seeds: [0, 1],
        },
        '/other/place.yaml',
      ),
    );
    const idOf = (plan: typeof first, lr: number, seed: number) =>
      plan.runs.find((r) => r.config.optimizer.lr === lr && r.config.seed === seed)!.id;
    expect(idOf(extended, 0.1, 0)).toBe(idOf(first, 0.1, 0));
    expect(idOf(extended, 0.01, 0)).toBe(idOf(first, 0.01, 0));
    const summary = writePlan(dir, extended);
    expect(summary).toMatchObject({ runs: 6, kept: 2, added: 4, orphanedRunDirs: [] });
    expect(readPlan(dir).runs).toHaveLength(6);

    // a change to what a run computes gives new ids
    const changed = planSweep(
      parseSweep({ name: 'unit', base: { ...base, steps: 5 }, grid: { 'optimizer.lr': [0.1, 0.01] } }, ''),
    );
    expect(changed.runs.map((r) => r.id)).not.toContain(idOf(first, 0.1, 0));
  });

  it('plans the shipped examples: the 4-run tiny grid and the paper grid (48 runs of VGG-11 on CIFAR-100)', () => {
    const tiny = planSweep(loadSweepFile(path.join(examples, 'tiny-grid.yaml')));
    expect(tiny.runs).toHaveLength(4);
    expect(tiny.runs.every((r) => r.config.model.arch === 'mlp' && r.config.dataset.name === 'default')).toBe(
      true,
    );
    const paper = planSweep(
      loadSweepFile(path.join(examples, 'paper-fig2-vgg11-cifar100.yaml'), { loadPreset }),
    );
    expect(paper.runs).toHaveLength(4 * 4 * 3);
    expect(
      paper.runs.every((r) => r.config.model.arch === 'vgg11' && r.config.dataset.name === 'cifar100'),
    ).toBe(true);
    expect(new Set(paper.runs.map((r) => r.config.optimizer.lr))).toEqual(new Set([0.1, 0.03, 0.01, 0.003]));
    expect(new Set(paper.runs.map((r) => r.config.penalty.alpha))).toEqual(new Set([0, 0.01, 0.1, 0.3]));
    expect(paper.runs.filter((r) => r.config.penalty.kind === 'none')).toHaveLength(12);
  });
});

describe('sweep file errors name the place, what was found and the fix', () => {
  const fails = (extra: Record<string, unknown>, pattern: RegExp) => {
    const attempt = () => planSweep(sweep(extra));
    expect(attempt).toThrow(pattern);
    try {
      attempt();
    } catch (error) {
      // an input error (the CLI prints its message alone and exits 2), not a bug
      expect(['SweepError', 'InputError', 'TrainingError']).toContain((error as Error).name);
    }
  };

  it('refuses zips of unequal lengths', () => {
    fails(
      { zip: [{ 'optimizer.lr': [0.1, 0.2], batchSize: [8] }] },
      /zip\[0\] zips lists of different lengths \(optimizer.lr: 2, batchSize: 1\)/,
    );
  });
  it('refuses two axes on one key or on a key and its parent', () => {
    fails(
      { grid: { 'optimizer.lr': [0.1] }, zip: [{ 'optimizer.lr': [0.2] }] },
      /key optimizer.lr .* overlaps optimizer.lr/,
    );
    fails(
      { grid: { penalty: [{ kind: 'none' }] }, variants: [{ 'penalty.alpha': 0.1 }] },
      /overlaps penalty/,
    );
    fails({ grid: { seed: [1, 2] }, seeds: [0] }, /key seed .*overlaps seed/);
  });
  it('refuses runs that resolve to the same config', () => {
    fails(
      { grid: { 'optimizer.lr': [0.1, 0.1] } },
      /runs 0 \(lr=0.1\) and 1 \(lr=0.1\) resolve to the same config/,
    );
  });
  it('checks every resolved run against the run config schema, naming the run', () => {
    fails(
      { grid: { 'optimizer.lrate': [0.1] } },
      /unit.yaml, run 0 \(lrate=0.1\)[\s\S]*unknown key optimizer.lrate; allowed here: name, lr/,
    );
    fails({ grid: { 'optimizer.lr': [-1] } }, /run 0 \(lr=-1\)[\s\S]*optimizer.lr/);
  });
  it('refuses a bad sweep name, unknown top-level keys and duplicate seeds', () => {
    expect(() => parseSweep({ name: 'My Sweep', base }, 's.yaml')).toThrow(
      /invalid sweep file \(s.yaml\)[\s\S]*name: use lower-case/,
    );
    expect(() => parseSweep({ name: 'a', base, grids: {} }, 's.yaml')).toThrow(
      /unknown key grids; allowed here: name, description, preset/,
    );
    expect(() => parseSweep({ name: 'a', base, seeds: [1, 1] }, 's.yaml')).toThrow(
      /seeds lists a seed twice/,
    );
  });
  it('reads the base from a run config file next to the sweep file', () => {
    const dir = tmp();
    writeFileSync(path.join(dir, 'base.json'), JSON.stringify(base));
    writeFileSync(
      path.join(dir, 'sweep.yaml'),
      'name: from-file\nbase: base.json\ngrid:\n  optimizer.lr: [0.5]\n',
    );
    const plan = planSweep(loadSweepFile(path.join(dir, 'sweep.yaml')));
    expect(plan.runs[0]!.config.optimizer.lr).toBe(0.5);
    expect(plan.runs[0]!.config.model.arch).toBe('mlp');
  });
  it('names a missing plan and the command that makes one', () => {
    expect(() => readPlan(tmp())).toThrow(
      /plan.json not found: .* is not a planned sweep. Run `fisherlab sweep plan/,
    );
  });
});
