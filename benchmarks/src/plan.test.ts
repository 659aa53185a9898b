import { describe, expect, it } from 'vitest';
import { buildPlan } from './plan.js';

const base = { backends: ['wasm', 'cpu'] as const, models: ['simplecnn', 'vgg11bn'] as const, batch: 128 };

describe('buildPlan', () => {
  it('quick mode: never runs VGG-11 on the cpu backend, and says why', () => {
    const { cells, skipped } = buildPlan({
      ...base,
      backends: [...base.backends],
      models: [...base.models],
      full: false,
    });
    expect(cells.some((c) => c.backend === 'cpu' && c.request.model === 'vgg11bn')).toBe(false);
    const reason = skipped.find((s) => s.backend === 'cpu' && s.model === 'vgg11bn' && s.task === 'sgd-step');
    expect(reason?.reason).toMatch(/minutes per VGG-11 step/);
  });

  it('quick mode derives penalty-k10; full mode measures it with more repetitions', () => {
    const quick = buildPlan({ ...base, backends: ['wasm'], models: ['simplecnn'], full: false });
    const full = buildPlan({ ...base, backends: ['wasm'], models: ['simplecnn'], full: true });
    expect(quick.cells.some((c) => c.request.task === 'penalty-k10')).toBe(false);
    expect(quick.skipped.find((s) => s.task === 'penalty-k10')?.reason).toMatch(/derived/);
    const k10 = full.cells.find((c) => c.request.task === 'penalty-k10');
    const quickPlain = quick.cells.find((c) => c.request.task === 'sgd-step');
    expect(k10?.reps).toBeGreaterThan(quickPlain?.reps ?? Number.POSITIVE_INFINITY);
  });

  it('Tr(F) runs on 1,024 examples except exact, which runs on a small n (C backward passes per example)', () => {
    const { cells } = buildPlan({
      ...base,
      backends: ['wasm'],
      models: ['simplecnn', 'vgg11bn'],
      full: true,
    });
    const trace = cells.filter((c) => c.request.task.startsWith('trace-'));
    for (const cell of trace) {
      expect(cell.request.n).toBe(
        cell.request.task === 'trace-exact' ? (cell.request.model === 'vgg11bn' ? 8 : 128) : 1024,
      );
    }
    const quick = buildPlan({ ...base, backends: ['wasm'], models: ['simplecnn'], full: false });
    expect(quick.cells.find((c) => c.request.task === 'trace-mc')?.request.n).toBe(1024);
  });

  it('runs the penalized VGG-11 steps last on each backend (a wasm heap exhaustion may end the worker)', () => {
    const { cells } = buildPlan({
      ...base,
      backends: ['wasm'],
      models: ['vgg11bn', 'simplecnn'],
      full: true,
    });
    const first = cells.findIndex(
      (c) => c.request.model === 'vgg11bn' && c.request.task.startsWith('penalty'),
    );
    const rest = cells.slice(first);
    expect(first).toBeGreaterThan(0);
    expect(rest.every((c) => c.request.model === 'vgg11bn' && c.request.task.startsWith('penalty'))).toBe(
      true,
    );
  });

  it('--tasks and --reps restrict and override', () => {
    const { cells } = buildPlan({
      ...base,
      backends: ['wasm'],
      models: ['simplecnn'],
      full: false,
      tasks: ['forward'],
      reps: 5,
    });
    expect(cells.map((c) => [c.request.task, c.reps])).toEqual([['forward', 5]]);
  });
});

describe('BACKENDS', () => {
  it('runs native as wasm with the native tier required, and the wasm entries with it off', async () => {
    const { BACKENDS } = await import('./plan.js');
    expect(BACKENDS.native).toMatchObject({ FISHERLAB_BACKEND: 'wasm', FISHERLAB_NATIVE: 'on' });
    expect(BACKENDS.wasm.FISHERLAB_NATIVE).toBe('off');
    expect(BACKENDS['wasm-2t'].FISHERLAB_NATIVE).toBe('off');
  });

  it('plans every task for native that it plans for wasm', () => {
    const plan = buildPlan({ ...base, backends: ['native', 'wasm'], models: [...base.models], full: false });
    const tasks = (backend: string) =>
      plan.cells.filter((c) => c.backend === backend).map((c) => `${c.request.model}/${c.request.task}`);
    expect(tasks('native')).toEqual(tasks('wasm'));
  });
});
