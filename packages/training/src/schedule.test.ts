import { describe, expect, it } from 'vitest';
import { learningRateAt, type ScheduleSettings } from './schedule.js';

const schedule = (s: Partial<ScheduleSettings>): ScheduleSettings => ({
  kind: 'constant',
  warmupEpochs: 0,
  milestones: [],
  gamma: 0.1,
  ...s,
});

describe('learningRateAt', () => {
  it('step: PyTorch MultiStepLR(milestones [2, 4], gamma 0.1) at epoch boundaries and inside epochs', () => {
    const s = schedule({ kind: 'step', milestones: [2, 4] });
    const at = (epoch: number) => learningRateAt(0.1, s, epoch, 6);
    expect([0, 1, 1.99].map(at)).toEqual([0.1, 0.1, 0.1]);
    for (const epoch of [2, 3, 3.5]) expect(at(epoch)).toBeCloseTo(0.01, 15);
    for (const epoch of [4, 5.9]) expect(at(epoch)).toBeCloseTo(0.001, 15);
  });

  it('cosine: PyTorch CosineAnnealingLR(T_max = total epochs, eta_min 0), evaluated per (fractional) epoch', () => {
    const s = schedule({ kind: 'cosine' });
    const at = (epoch: number) => learningRateAt(0.2, s, epoch, 10);
    // eta_t = 0.5 * 0.2 * (1 + cos(pi t / 10)): 0.2 at t = 0, 0.1 at t = 5, 0 at t = 10
    expect(at(0)).toBeCloseTo(0.2, 15);
    expect(at(5)).toBeCloseTo(0.1, 15);
    expect(at(10)).toBeCloseTo(0, 15);
    // t = 2.5: 0.1 * (1 + cos(pi / 4)) = 0.1 * (1 + 0.70710678...)
    expect(at(2.5)).toBeCloseTo(0.170710678118654, 14);
    expect(at(12)).toBeCloseTo(0, 15); // past the end it stays at eta_min
  });

  it('warm-up: linear from 0 over warmupEpochs, then the schedule over the remaining epochs', () => {
    const s = schedule({ kind: 'cosine', warmupEpochs: 2 });
    const at = (epoch: number) => learningRateAt(0.1, s, epoch, 10);
    expect(at(0)).toBe(0);
    expect(at(0.5)).toBeCloseTo(0.025, 15);
    expect(at(1.5)).toBeCloseTo(0.075, 15);
    expect(at(2)).toBeCloseTo(0.1, 15); // cosine starts at its peak
    expect(at(6)).toBeCloseTo(0.05, 15); // half-way through the 8 cosine epochs
    expect(at(10)).toBeCloseTo(0, 15);
  });

  it('constant: the base rate at every epoch', () => {
    const s = schedule({});
    expect([0, 3.3, 100].map((e) => learningRateAt(0.05, s, e, 10))).toEqual([0.05, 0.05, 0.05]);
  });
});
