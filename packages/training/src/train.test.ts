import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { tf } from '@fisherlab/engine';
import type { MetricRecord, RunMeta } from '@fisherlab/storage';
import { afterAll, describe, expect, it } from 'vitest';
import { TrainingError } from './errors.js';
import { readMetrics } from './metrics-log.js';
import type { RunConfigInput } from './spec.js';
import { train } from './train.js';

const root = mkdtempSync(path.join(tmpdir(), 'fisherlab-training-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const spec = (name: string, extra: Partial<RunConfigInput> = {}): RunConfigInput => ({
  name,
  dataset: { trainSubset: 200, testSubset: 100, noise: { fraction: 0.2 } },
  model: { arch: 'mlp', options: { hiddenUnits: [32] } },
  optimizer: { lr: 0.05, momentum: 0.9, weightDecay: 1e-4 },
  schedule: { kind: 'cosine' },
  batchSize: 50,
  epochs: 3,
  penalty: { kind: 'fisher', alpha: 0.1 },
  tracking: { subset: 64, every: 2, earlyEpochs: 1, earlyEvery: 1 },
  logEvery: 2,
  backend: 'cpu',
  output: path.join(root, name),
  ...extra,
});

const withoutTime = (records: MetricRecord[]) => records.map(({ time: _time, ...rest }) => rest);

describe('train', () => {
  it('hands every record to onRecord as metrics.jsonl gets it, and reports progress after every step', async () => {
    const seen: MetricRecord[] = [];
    const steps: number[] = [];
    const outcome = await train(spec('callbacks'), {
      onRecord: (r) => seen.push(r),
      onProgress: (p) => steps.push(p.step),
    });
    expect(outcome.status).toBe('completed');
    expect(outcome.steps).toBe(12); // 200 examples / 50 per batch x 3 epochs
    expect(steps).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(seen).toEqual(readMetrics(path.join(outcome.runDir, 'metrics.jsonl')));
    expect(new Set(seen.map((r) => r.kind))).toEqual(new Set(['train', 'fisher', 'eval']));
    const evals = seen.filter((r) => r.kind === 'eval');
    expect(evals.map((r) => r.epoch)).toEqual([0, 1, 2, 3]);
    expect(evals.at(-1)).toMatchObject({ trainNoisyAccuracy: expect.any(Number) });
    const meta = JSON.parse(readFileSync(path.join(outcome.runDir, 'meta.json'), 'utf8')) as RunMeta;
    expect(meta).toMatchObject({ status: 'completed', step: 12, backend: 'cpu' });
    expect(meta.versions).toMatchObject({ fisherlab: expect.any(String), backend: 'cpu' });
    expect(meta.memoryCeiling).toMatchObject({ bytes: expect.any(Number), reason: expect.any(String) });
  });

  it('an aborted run checkpoints and says interrupted; resumed, it ends with the uninterrupted run’s records', async () => {
    const whole = await train(spec('whole'));
    const stop = new AbortController();
    const first = await train(spec('halves'), {
      signal: stop.signal,
      onProgress: (p) => {
        if (p.step === 5) stop.abort();
      },
    });
    expect(first.status).toBe('interrupted');
    expect(first.steps).toBe(5);
    expect(existsSync(path.join(first.runDir, 'checkpoint.json'))).toBe(true);
    const meta = JSON.parse(readFileSync(path.join(first.runDir, 'meta.json'), 'utf8')) as RunMeta;
    expect(meta.status).toBe('interrupted');

    const second = await train(spec('halves'), { resume: true });
    expect(second.status).toBe('completed');
    expect(withoutTime(readMetrics(path.join(second.runDir, 'metrics.jsonl')))).toEqual(
      withoutTime(readMetrics(path.join(whole.runDir, 'metrics.jsonl'))),
    );
  });

  it('refuses a spec with an unknown key or without a learning rate, listing each problem', async () => {
    const typo = { ...spec('typo'), optimiser: { lr: 0.1 } } as unknown as RunConfigInput;
    await expect(train(typo)).rejects.toThrow(TrainingError);
    await expect(train(typo)).rejects.toThrow(/unknown key optimiser; allowed here: .*optimizer/);
    const { optimizer: _optimizer, ...noLr } = spec('no-lr');
    await expect(train(noLr as RunConfigInput)).rejects.toThrow(/optimizer\.lr is required/);
    expect(existsSync(path.join(root, 'typo'))).toBe(false);
  });

  it('a diverging run ends as diverged with the quantity and step, not as an exception', async () => {
    const outcome = await train(spec('diverges', { optimizer: { lr: 1e6 }, penalty: { kind: 'none' } }));
    expect(outcome.status).toBe('diverged');
    expect(outcome.error).toMatchObject({ quantity: expect.stringMatching(/loss|gradient|Tr\(F\)/) });
  });

  it('trains a LayersModel of your own, records it as custom, and resumes it from its checkpoint', async () => {
    const build = ({ inputShape, numClasses }: { inputShape: number[]; numClasses: number }) =>
      tf.sequential({
        layers: [
          tf.layers.flatten({ inputShape }),
          tf.layers.dense({ units: 24, activation: 'relu' }),
          tf.layers.dense({ units: numClasses }),
        ],
      });
    const whole = await train(spec('custom-whole'), { model: build });
    expect(whole.status).toBe('completed');
    const config = JSON.parse(readFileSync(path.join(whole.runDir, 'config.json'), 'utf8'));
    expect(config.model).toEqual({ arch: 'custom', options: {} });

    const stop = new AbortController();
    const first = await train(spec('custom-halves'), {
      model: build,
      signal: stop.signal,
      onProgress: (p) => {
        if (p.step === 6) stop.abort();
      },
    });
    expect(first.status).toBe('interrupted');
    // build() initializes new weights each call; the checkpoint's are loaded over them.
    const second = await train(spec('custom-halves'), { model: build, resume: true });
    expect(second.status).toBe('completed');
    const records = readMetrics(path.join(second.runDir, 'metrics.jsonl'));
    expect(records.filter((r) => r.kind === 'train').map((r) => r.step)).toEqual([2, 4, 6, 8, 10, 12]);
    expect(records.filter((r) => r.kind === 'eval').map((r) => r.epoch)).toEqual([0, 1, 2, 3]);
    const firstLoss = records.find((r) => r.kind === 'train')!;
    const lastLoss = records.filter((r) => r.kind === 'train').at(-1)!;
    expect(lastLoss.kind === 'train' && firstLoss.kind === 'train' && lastLoss.loss < firstLoss.loss).toBe(
      true,
    );

    const softmax = () =>
      tf.sequential({
        layers: [
          tf.layers.flatten({ inputShape: [28, 28, 1] }),
          tf.layers.dense({ units: 10, activation: 'softmax' }),
        ],
      });
    await expect(train(spec('custom-softmax'), { model: softmax })).rejects.toThrow(
      /train\(\) options\.model: .* outputs probabilities/,
    );
  });
});
