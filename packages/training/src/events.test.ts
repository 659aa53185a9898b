import { describe, expect, it } from 'vitest';
import { eventsAfterStep, isPenalizedStep, isTrackingStep, runLength } from './events.js';
import { parseRunConfig, type RunConfigInput } from './spec.js';

const config = (extra: Partial<RunConfigInput> = {}) =>
  parseRunConfig({ optimizer: { lr: 0.1 }, epochs: 3, batchSize: 64, ...extra });

/** The steps in 1..total at which `pick` is due. */
const stepsWhere = (c: ReturnType<typeof config>, trainCount: number, pick: (s: number) => boolean) => {
  const { totalSteps } = runLength(c, trainCount);
  return Array.from({ length: totalSteps }, (_, i) => i + 1).filter(pick);
};

describe('run events', () => {
  it('length: a short last batch is a step; steps override epochs', () => {
    expect(runLength(config(), 1000)).toEqual({ stepsPerEpoch: 16, totalSteps: 48 }); // 15 x 64 + 40
    expect(runLength(config({ epochs: undefined, steps: 7 }), 1000)).toEqual({
      stepsPerEpoch: 16,
      totalSteps: 7,
    });
  });

  it('Tr(F): before training, every earlyEvery steps in the first earlyEpochs epochs, then every `every`', () => {
    const c = config({ tracking: { every: 10, earlyEpochs: 1, earlyEvery: 4 } });
    expect(isTrackingStep(c, 0, 16)).toBe(true);
    expect(stepsWhere(c, 1000, (s) => isTrackingStep(c, s, 16))).toEqual([4, 8, 12, 20, 30, 40]);
    const off = config({ tracking: { subset: 0 } });
    expect(isTrackingStep(off, 0, 16)).toBe(false);
  });

  it('penalty every k: 0-based steps 0, k, 2k, ...; never without a penalty', () => {
    const c = config({ penalty: { kind: 'fisher', alpha: 0.1, every: 3 } });
    expect([0, 1, 2, 3, 4, 5, 6].map((s) => isPenalizedStep(c, s))).toEqual([
      true,
      false,
      false,
      true,
      false,
      false,
      true,
    ]);
    expect(isPenalizedStep(config(), 0)).toBe(false);
  });

  it('logs every logEvery steps and at each epoch end; evaluates, probes curvature and checkpoints at epoch ends', () => {
    const c = config({
      epochs: 5,
      logEvery: 6,
      evaluation: { everyEpochs: 2 },
      tracking: { curvatureEveryEpochs: 3 },
    });
    const length = runLength(c, 1000); // 16 steps per epoch, 80 in all
    const due = (key: 'log' | 'evaluate' | 'curvature' | 'checkpoint') =>
      stepsWhere(c, 1000, (s) => eventsAfterStep(c, s, length)[key]);
    expect(due('checkpoint')).toEqual([16, 32, 48, 64, 80]);
    expect(due('evaluate')).toEqual([32, 64, 80]); // epochs 2, 4, and the last
    expect(due('curvature')).toEqual([48, 80]); // epoch 3, and the last
    expect(due('log')).toEqual([6, 12, 16, 18, 24, 30, 32, 36, 42, 48, 54, 60, 64, 66, 72, 78, 80]);
  });
});
