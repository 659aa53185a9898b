import { describe, expect, it } from 'vitest';
import { runConfig } from '../fixtures/runFixtures.js';
import { groupKeyOf, groupLabels } from './groups.js';

describe('grouping', () => {
  it('puts seeds of the same config in one group, whatever their name and output dir', () => {
    const a = groupKeyOf(runConfig({ name: 'a', seed: 1 }));
    const b = groupKeyOf(runConfig({ name: 'b', seed: 2 }));
    expect(a).toBe(b);
    expect(groupKeyOf(runConfig({ lr: 0.005 }))).not.toBe(a);
  });
  it('does not depend on key order', () => {
    expect(groupKeyOf({ x: 1, y: { b: 2, a: 1 } })).toBe(groupKeyOf({ y: { a: 1, b: 2 }, x: 1 }));
  });
  it('labels groups by what differs between them', () => {
    const keys = [
      groupKeyOf(runConfig({ lr: 0.1 })),
      groupKeyOf(runConfig({ lr: 0.005 })),
      groupKeyOf(runConfig({ lr: 0.005, penalty: 'fisher', alpha: 0.1 })),
    ];
    const labels = groupLabels(keys);
    expect(labels.get(keys[0]!)).toBe('lr=0.1, no penalty');
    expect(labels.get(keys[1]!)).toBe('lr=0.005, no penalty');
    expect(labels.get(keys[2]!)).toBe('lr=0.005, FP α=0.1');
  });
  it('keeps labels unique when distinct groups describe alike', () => {
    const a = groupKeyOf(runConfig({ penalty: 'none', alpha: 0 }));
    const b = groupKeyOf(runConfig({ penalty: 'none', alpha: 0.1 }));
    const labels = groupLabels([a, b]);
    expect(labels.get(a)).toBe('no penalty');
    expect(labels.get(b)).toBe('no penalty (#2)');
  });
  it('labels noise and a single group', () => {
    const clean = groupKeyOf(runConfig({}));
    const noisy = groupKeyOf(runConfig({ noise: 0.2 }));
    const labels = groupLabels([clean, noisy]);
    expect(labels.get(clean)).toBe('clean labels');
    expect(labels.get(noisy)).toBe('noise 20%');
    expect(groupLabels([clean]).get(clean)).toBe('simplecnn, fashion-mnist, lr=0.1');
  });
});

describe('grouping keeps nested keys that share an ignored top-level name', () => {
  it('separates datasets although "name" is ignored at the top level', () => {
    const a = runConfig({});
    const b = { ...a, dataset: { name: 'cifar10', noise: null } };
    expect(groupKeyOf(a)).not.toBe(groupKeyOf(b));
  });
});
