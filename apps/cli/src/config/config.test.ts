import { mergeConfig, parseRunConfig } from '@fisherlab/training';
import { describe, expect, it } from 'vitest';
import { overridesFromFlags } from './flags.js';
import { loadPreset, PRESET_NAMES } from './presets.js';

const base = { optimizer: { lr: 0.1 }, epochs: 1 };

/** Each bad config and the words its error must contain: the key path and the allowed values. */
const BAD_CONFIGS: [string, unknown, RegExp[]][] = [
  [
    'unknown top-level key',
    { ...base, learningRate: 0.1 },
    [/unknown key learningRate/, /allowed here: .*optimizer/],
  ],
  [
    'unknown nested key',
    { ...base, optimizer: { lr: 0.1, mom: 0.9 } },
    [/unknown key optimizer\.mom/, /allowed here: name, lr, momentum/],
  ],
  [
    'negative learning rate',
    { ...base, optimizer: { lr: -0.1 } },
    [/optimizer\.lr: Too small: expected number to be >0/],
  ],
  [
    'noise fraction above 1',
    { ...base, dataset: { noise: { fraction: 1.5 } } },
    [/dataset\.noise\.fraction: Too big/],
  ],
  [
    'wrong type',
    { ...base, batchSize: '128' },
    [/batchSize: Invalid input: expected number, received string/],
  ],
  ['non-integer batch', { ...base, batchSize: 12.5 }, [/batchSize: .*int/]],
  [
    'validation fraction holding out every example of a subset',
    { ...base, dataset: { trainSubset: 10, validationFraction: 0.99 } },
    [
      /dataset\.validationFraction: 0\.99 of dataset\.trainSubset 10 holds out 10 of the 10 examples, leaving none to train on/,
      /from 0\.05 to below 0\.95/,
    ],
  ],
  [
    'validation fraction holding out no example of a subset',
    { ...base, dataset: { trainSubset: 500, validationFraction: 0.0005 } },
    [
      /holds out 0 of the 500 examples, leaving no validation split; set dataset\.validationFraction from 0\.001 to below 0\.999/,
    ],
  ],
  [
    'unknown dataset',
    { ...base, dataset: { name: 'imagenet' } },
    [/dataset\.name: Invalid option: expected one of "default"\|/],
  ],
  [
    'unknown estimator',
    { ...base, tracking: { estimator: 'kfac' } },
    [/tracking\.estimator: .*"exact"\|"mc"\|"minibatch"\|"empirical"/],
  ],
  [
    'penalty without alpha',
    { ...base, penalty: { kind: 'fisher' } },
    [/penalty\.alpha: penalty\.kind is 'fisher' but alpha is 0/],
  ],
  ['no length', { optimizer: { lr: 0.1 } }, [/epochs: set either epochs or steps/]],
  ['both lengths', { ...base, steps: 10 }, [/steps: set epochs or steps, not both/]],
  [
    'missing learning rate',
    { epochs: 1 },
    [/optimizer\.lr is required .*set optimizer\.lr, e\.g\. \{ optimizer: \{ lr: 0\.01 \} \}/],
  ],
  ['momentum of 1', { ...base, optimizer: { lr: 0.1, momentum: 1 } }, [/optimizer\.momentum: Too big/]],
  [
    'coarse labels off CIFAR-100',
    { ...base, dataset: { coarseLabels: true } },
    [/dataset\.coarseLabels: coarseLabels applies to cifar100 only/],
  ],
];

describe('run config', () => {
  it('fills defaults for a minimal config', () => {
    const config = parseRunConfig(base);
    expect(config.optimizer).toEqual({ name: 'sgd', lr: 0.1, momentum: 0, nesterov: false, weightDecay: 0 });
    expect(config.penalty.kind).toBe('none');
    expect(config.dataset.name).toBe('default');
    expect(config.tracking.estimator).toBe('mc');
  });

  it.each(BAD_CONFIGS)('refuses %s with the key path and what is allowed', (_, input, patterns) => {
    let message = '';
    try {
      parseRunConfig(input, 'test.json');
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('invalid run config (test.json)');
    for (const pattern of patterns) expect(message).toMatch(pattern);
  });

  it('maps every flag to its config key, flags overriding the file', () => {
    const flags = overridesFromFlags({
      lr: 0.01,
      penalty: 'fisher',
      alpha: 0.1,
      noise: 0.2,
      tags: ['a', 'b'],
      augment: true,
    });
    expect(flags).toEqual({
      optimizer: { lr: 0.01 },
      penalty: { kind: 'fisher', alpha: 0.1 },
      dataset: { noise: { fraction: 0.2 }, augment: true },
      tags: ['a', 'b'],
    });
    const merged = parseRunConfig(mergeConfig({ optimizer: { lr: 0.5, momentum: 0.9 }, epochs: 2 }, flags));
    expect(merged.optimizer.lr).toBe(0.01);
    expect(merged.optimizer.momentum).toBe(0.9);
    expect(merged.dataset.noise).toEqual({ fraction: 0.2, mode: 'symmetric' });
  });

  it('ships presets that validate', () => {
    expect(PRESET_NAMES).toEqual(
      expect.arrayContaining([
        'fig1-wrn-tinyimagenet',
        'fig2-vgg11-cifar100',
        'fig3-vgg11-cifar100-noisy',
        'simplecnn-cifar10',
      ]),
    );
    for (const name of PRESET_NAMES) expect(() => parseRunConfig(loadPreset(name), name)).not.toThrow();
  });
});
