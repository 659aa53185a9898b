import { describe, expect, it } from 'vitest';
import { buildPlan, groupCells } from './plan.js';

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

  it("groups each backend's cells by model, in order, so each group gets fresh workers", () => {
    const { cells } = buildPlan({
      ...base,
      backends: ['native', 'wasm'],
      models: ['vgg11bn', 'simplecnn'],
      full: true,
    });
    const groups = groupCells(cells);
    // Per backend: matmul alone, then one group per model.
    expect(groups.map((g) => `${g[0]!.backend}/${g[0]!.request.model ?? 'matmul'}`)).toEqual([
      'native/matmul',
      'native/vgg11bn',
      'native/simplecnn',
      'wasm/matmul',
      'wasm/vgg11bn',
      'wasm/simplecnn',
    ]);
    expect(groups.flat()).toEqual(cells);
    for (const group of groups) {
      expect(new Set(group.map((c) => `${c.backend}/${c.request.model}`)).size).toBe(1);
    }
  });

  it('groupCells starts a new group whenever the backend or the model changes, even back to an earlier one', () => {
    const cell = (backend: 'native' | 'wasm', model?: 'simplecnn' | 'resnet18') =>
      ({
        backend,
        request: { task: 'sgd-step', ...(model ? { model } : {}) },
        reps: 1,
        profile: false,
      }) as const;
    const cells = [
      cell('native', 'simplecnn'),
      cell('native', 'simplecnn'),
      cell('native', 'resnet18'),
      cell('native', 'simplecnn'),
      cell('wasm', 'simplecnn'),
      cell('wasm'),
    ];
    expect(groupCells(cells).map((g) => g.length)).toEqual([2, 1, 1, 1, 1]);
  });

  it('ResNet-18 on CIFAR-100 and WRN-16-4 on TinyImageNet: quick mode times their plain and penalized steps on the fast backends at batch 128', () => {
    const { cells, skipped } = buildPlan({
      ...base,
      backends: ['auto', 'native', 'wasm', 'wasm-2t', 'cpu'],
      models: ['resnet18', 'wrn16-4'],
      full: false,
    });
    const measured = cells.filter((c) => c.request.model);
    expect(measured.map((c) => `${c.backend}/${c.request.model}/${c.request.task}`)).toEqual([
      'auto/resnet18/sgd-step',
      'auto/resnet18/penalty-k1',
      'auto/wrn16-4/sgd-step',
      'auto/wrn16-4/penalty-k1',
      'native/resnet18/sgd-step',
      'native/resnet18/penalty-k1',
      'native/wrn16-4/sgd-step',
      'native/wrn16-4/penalty-k1',
    ]);
    const resnet = measured.find((c) => c.request.model === 'resnet18')!.request;
    const wrn = measured.find((c) => c.request.model === 'wrn16-4')!.request;
    expect([resnet.side, resnet.classes, resnet.batch]).toEqual([32, 100, 128]);
    expect([wrn.side, wrn.classes, wrn.batch]).toEqual([64, 200, 128]);
    const reason = (backend: string, task: string) =>
      skipped.find((s) => s.backend === backend && s.model === 'wrn16-4' && s.task === task)?.reason;
    expect(reason('wasm', 'sgd-step')).toMatch(/WRN-16-4 on wasm: .*--full/);
    expect(reason('cpu', 'penalty-k1')).toMatch(/minutes per WRN-16-4 step/);
    expect(reason('native', 'forward')).toMatch(/only the plain step and penalty k=1/);
  });

  it('full mode runs the large models on wasm too, and their exact Tr(F) on 8 examples at batch 8', () => {
    const { cells } = buildPlan({ ...base, backends: ['wasm'], models: ['wrn16-4'], full: true });
    expect(cells.some((c) => c.request.task === 'penalty-k1')).toBe(true);
    const exact = cells.find((c) => c.request.task === 'trace-exact')!.request;
    expect([exact.n, exact.batch]).toEqual([8, 8]);
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
  it('runs native as the native backend, wasm-native as wasm with the native kernels required, and the wasm entries with them off', async () => {
    const { BACKENDS } = await import('./plan.js');
    expect(BACKENDS.native).toEqual({ FISHERLAB_BACKEND: 'native' });
    expect(BACKENDS['wasm-native']).toMatchObject({ FISHERLAB_BACKEND: 'wasm', FISHERLAB_NATIVE: 'on' });
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
