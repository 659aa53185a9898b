import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { InputError } from '@fisherlab/core';
import { tf } from '@fisherlab/engine';
import { FisherPenalty } from '@fisherlab/fisher';
import type { MetricRecord } from '@fisherlab/storage';
import { afterAll, describe, expect, it } from 'vitest';
import { readMetrics } from './metrics-log.js';
import type { ModelInputs } from './model.js';
import { parseRunConfig, type RunConfigInput } from './spec.js';
import { train } from './train.js';

const root = mkdtempSync(path.join(tmpdir(), 'fisherlab-input-checks-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const spec = (name: string): RunConfigInput => ({
  dataset: { trainSubset: 100, testSubset: 50 },
  optimizer: { lr: 0.05, momentum: 0.9 },
  batchSize: 50,
  epochs: 1,
  penalty: { kind: 'fisher', alpha: 0.1 },
  tracking: { subset: 32, every: 1 },
  logEvery: 1,
  backend: 'cpu',
  seed: 3,
  output: path.join(root, name),
});

/** A model built the way README users build theirs: tfjs's default (unseeded) initializers. */
const mlp =
  (outputs?: number, inputShape?: number[]) =>
  ({ inputShape: shape, numClasses }: ModelInputs): tf.LayersModel =>
    tf.sequential({
      layers: [
        tf.layers.flatten({ inputShape: inputShape ?? shape }),
        tf.layers.dense({ units: 16, activation: 'relu' }),
        tf.layers.dense({ units: outputs ?? numClasses }),
      ],
    });

async function refusal(name: string, model: (inputs: ModelInputs) => tf.LayersModel): Promise<InputError> {
  const error = await train(spec(name), { model }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InputError);
  return error as InputError;
}

describe('train() with a model of your own', () => {
  it('a 5-output model on 10-class data is refused before training (it used to complete with a loss)', async () => {
    const error = await refusal('five-outputs', mlp(5));
    expect(error.key).toBe('options.model');
    expect(error.expected).toMatch(/10 outputs \(the dataset's classes\)/);
    expect(error.found).toMatch(/5 outputs/);
    expect(existsSync(path.join(root, 'five-outputs', 'metrics.jsonl'))).toBe(false);
  });

  it("a model whose input is not the images' shape is refused, naming both shapes", async () => {
    const error = await refusal('wrong-input', mlp(undefined, [32, 32, 3]));
    expect(error.expected).toMatch(/\[batch, 28, 28, 1\]/);
    expect(error.found).toBe('input shape [batch,32,32,3]');
  });

  it('spec.seed seeds its initializers: two identical calls write identical records', async () => {
    const strip = (records: MetricRecord[]) => records.map(({ time: _time, ...rest }) => rest);
    const first = await train(spec('seeded-a'), { model: mlp() });
    const second = await train(spec('seeded-b'), { model: mlp() });
    expect(first.status).toBe('completed');
    const a = strip(readMetrics(path.join(first.runDir, 'metrics.jsonl')));
    const b = strip(readMetrics(path.join(second.runDir, 'metrics.jsonl')));
    expect(a.length).toBeGreaterThan(2);
    expect(b).toEqual(a);
    // and another seed gives another model
    const other = await train({ ...spec('seeded-c'), seed: 4 }, { model: mlp() });
    expect(strip(readMetrics(path.join(other.runDir, 'metrics.jsonl')))).not.toEqual(a);
    expect(JSON.parse(readFileSync(path.join(first.runDir, 'config.json'), 'utf8')).model.arch).toBe(
      'custom',
    );
  });

  it('excludeBatchNorm has one default: the spec leaves BatchNorm in the norm, as FisherPenalty does', () => {
    const spec = parseRunConfig({
      optimizer: { lr: 0.1 },
      epochs: 1,
      penalty: { kind: 'fisher', alpha: 0.1 },
    });
    expect(spec.penalty.excludeBatchNorm).toBe(false);
    expect(new FisherPenalty({ kind: 'fisher', alpha: 0.1 }).excludeBatchNorm).toBe(
      spec.penalty.excludeBatchNorm,
    );
  });
});
