import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  armSchedule,
  DEMO_ARMS,
  DEMO_SCALES,
  type DemoTuning,
  demoArmConfig,
  PENALIZED_STEP_COST,
  projectDemoSeconds,
  readDemoTuning,
  runCost,
  SECONDS_PER_PLAIN_EPOCH,
} from './plan.js';

const tuning: DemoTuning = {
  format: 'fisherlab-demo-tuning',
  version: 2,
  measured: { date: '2026-12-07', backend: 'auto', machine: 'test', settings: 'test', criteria: [] },
  tunedLr: 0.05,
  smallLrDivisor: 20,
  smallLr: 0.0025,
  fisherAlpha: 0.03,
  penaltyEvery: 4,
  epochs: { tuned: 25, small: 400, noisy: 50 },
  grids: { lr: [], ratio: [], fisherAlpha: [], penaltyEvery: [] },
};

describe("the demo's protocol", () => {
  it('trains every arm at a constant rate, the penalized arm on its twin’s budget', () => {
    const full = DEMO_SCALES.full;
    for (const arm of DEMO_ARMS) {
      const config = demoArmConfig(arm, tuning, full, 3);
      expect(config.schedule.kind).toBe('constant');
      expect(config.optimizer).toMatchObject({ name: 'sgd', momentum: 0.9, weightDecay: 0 });
      expect(config.dataset.augment).toBe(false);
      expect(config.seed).toBe(3);
    }
    expect(armSchedule('small+FP', tuning, full)).toEqual(armSchedule('small', tuning, full));
    expect(armSchedule('small', tuning, full)).toEqual({ lr: 0.0025, epochs: 400 });
    expect(armSchedule('noisy+FP', tuning, full)).toEqual({ lr: 0.05, epochs: 50 });
    expect(demoArmConfig('small+FP', tuning, full, 0).penalty).toMatchObject({
      kind: 'fisher',
      alpha: 0.03,
      every: 4,
    });
    expect(demoArmConfig('small', tuning, full, 0).penalty.kind).toBe('none');
    // The quick smoke test keeps its own tiny budgets.
    expect(armSchedule('small', tuning, DEMO_SCALES.quick).epochs).toBe(2);
  });

  it('costs a penalized run by its interval, (1 + 2.4/k) plain epochs per epoch, and projects the demo from that', () => {
    const small = demoArmConfig('small', tuning, DEMO_SCALES.full, 0);
    const fp = demoArmConfig('small+FP', tuning, DEMO_SCALES.full, 0);
    expect(runCost(fp) / runCost(small)).toBeCloseTo(1 + (PENALIZED_STEP_COST - 1) / 4, 10);
    // Per seed on 500 examples (half a 1,000-example epoch): 25 + 400 + 400·1.6 + 50 + 50·1.6 epochs.
    const perSeed = (25 + 400 + 400 * 1.6 + 50 + 50 * 1.6) * 0.5;
    expect(projectDemoSeconds(tuning, DEMO_SCALES.full, 5, 2)).toBeCloseTo(
      (5 * perSeed * SECONDS_PER_PLAIN_EPOCH) / 2,
      8,
    );
  });

  it('refuses a tuning file it cannot read or of an older format, naming the file and the fix', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'demo-tuning-'));
    const old = path.join(dir, 'tuning.json');
    writeFileSync(old, JSON.stringify({ tunedLr: 0.03, smallLrDivisor: 10 }));
    expect(() => readDemoTuning(pathToFileURL(old))).toThrow(
      /tuning\.json is not a version-2 demo tuning.*demo --tune/,
    );
    writeFileSync(old, '{"format": "fisherlab-demo');
    expect(() => readDemoTuning(pathToFileURL(old))).toThrow(/cannot read the demo's tuning .*tuning\.json/);
    expect(readDemoTuning().format).toBe('fisherlab-demo-tuning');
  });
});
