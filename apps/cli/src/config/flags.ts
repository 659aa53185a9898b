import { choicesOf, RunConfigSchema } from '@fisherlab/training';
import { InvalidArgumentError, Option } from 'commander';
import { z } from 'zod';
import { UserError } from '../errors.js';
import { setPath } from './load.js';

/**
 * The flags of `fisherlab train`, one per config key. The table is the single source: it builds the
 * commander options, their help (which names the key) and the override object.
 */
interface FlagSpec {
  flag: string;
  key: string;
  description: string;
  parse?: 'number' | 'int' | 'boolean' | 'list' | 'json';
  /** The key is a choice: commander offers (and checks) the values the run config schema allows. */
  choices?: true;
}

export const TRAIN_FLAGS: readonly FlagSpec[] = [
  { flag: '--name <text>', key: 'name', description: 'label of the run in reports' },
  { flag: '--tags <a,b>', key: 'tags', description: 'comma-separated tags', parse: 'list' },
  { flag: '--dataset <name>', key: 'dataset.name', description: 'dataset' },
  { flag: '--data-dir <dir>', key: 'dataset.dir', description: 'directory holding the dataset files' },
  {
    flag: '--train-subset <n>',
    key: 'dataset.trainSubset',
    description: 'class-balanced training subset',
    parse: 'int',
  },
  { flag: '--test-subset <n>', key: 'dataset.testSubset', description: 'first-N test subset', parse: 'int' },
  {
    flag: '--validation-fraction <f>',
    key: 'dataset.validationFraction',
    description: 'held-out fraction of train',
    parse: 'number',
  },
  {
    flag: '--noise <fraction>',
    key: 'dataset.noise.fraction',
    description: 'fraction of training labels replaced',
    parse: 'number',
  },
  {
    flag: '--noise-mode <mode>',
    key: 'dataset.noise.mode',
    description: 'label noise',
    choices: true,
  },
  {
    flag: '--augment',
    key: 'dataset.augment',
    description: 'random crop (4-px padding) + horizontal flip',
    parse: 'boolean',
  },
  { flag: '--arch <name>', key: 'model.arch', description: 'model architecture' },
  {
    flag: '--model-options <json>',
    key: 'model.options',
    description: 'architecture options as JSON',
    parse: 'json',
  },
  { flag: '--optimizer <name>', key: 'optimizer.name', description: 'optimizer', choices: true },
  { flag: '--lr <rate>', key: 'optimizer.lr', description: 'learning rate', parse: 'number' },
  { flag: '--momentum <m>', key: 'optimizer.momentum', description: 'SGD momentum', parse: 'number' },
  { flag: '--nesterov', key: 'optimizer.nesterov', description: 'Nesterov momentum', parse: 'boolean' },
  {
    flag: '--weight-decay <l2>',
    key: 'optimizer.weightDecay',
    description: 'L2 on kernels',
    parse: 'number',
  },
  {
    flag: '--schedule <kind>',
    key: 'schedule.kind',
    description: 'learning-rate schedule',
    choices: true,
  },
  {
    flag: '--warmup-epochs <e>',
    key: 'schedule.warmupEpochs',
    description: 'linear warm-up epochs',
    parse: 'number',
  },
  { flag: '--batch-size <n>', key: 'batchSize', description: 'batch size', parse: 'int' },
  { flag: '--epochs <n>', key: 'epochs', description: 'training epochs', parse: 'int' },
  { flag: '--steps <n>', key: 'steps', description: 'training steps (instead of epochs)', parse: 'int' },
  {
    flag: '--penalty <kind>',
    key: 'penalty.kind',
    description: 'penalty',
    choices: true,
  },
  { flag: '--alpha <a>', key: 'penalty.alpha', description: 'penalty strength α', parse: 'number' },
  {
    flag: '--penalty-every <k>',
    key: 'penalty.every',
    description: 'apply the penalty every k steps',
    parse: 'int',
  },
  {
    flag: '--penalty-method <m>',
    key: 'penalty.method',
    description: 'how the penalty gradient is computed',
    choices: true,
  },
  {
    flag: '--estimator <name>',
    key: 'tracking.estimator',
    description: 'Tr(F) estimator',
    choices: true,
  },
  {
    flag: '--track-subset <n>',
    key: 'tracking.subset',
    description: 'examples Tr(F) is measured on (0: off)',
    parse: 'int',
  },
  {
    flag: '--track-every <n>',
    key: 'tracking.every',
    description: 'measure Tr(F) every N steps',
    parse: 'int',
  },
  {
    flag: '--curvature-every <m>',
    key: 'tracking.curvatureEveryEpochs',
    description: 'Tr(H) and top eigenvalue every M epochs (0: off)',
    parse: 'int',
  },
  { flag: '--log-every <n>', key: 'logEvery', description: 'training log line every N steps', parse: 'int' },
  {
    flag: '--seed <s>',
    key: 'seed',
    description: 'seed for init, shuffling, augmentation, noise, sampled labels',
    parse: 'int',
  },
  {
    flag: '--backend <name>',
    key: 'backend',
    description: 'compute backend',
    choices: true,
  },
  { flag: '--output <dir>', key: 'output', description: 'run directory' },
];

const optionName = (flag: string): string =>
  flag
    .split(' ')[0]!
    .replace(/^--/, '')
    .replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** The run-config schema of a dotted key (its own range checks included), through the nested objects. */
function keySchema(dotted: string): z.ZodType | undefined {
  let current: z.ZodType | undefined = RunConfigSchema;
  for (const key of dotted.split('.')) {
    let object = current;
    for (let i = 0; i < 8 && object && !(object instanceof z.ZodObject); i++) {
      object = (object as unknown as { def: { innerType?: z.ZodType } }).def.innerType;
    }
    if (!(object instanceof z.ZodObject)) return undefined;
    current = object.shape[key] as z.ZodType | undefined;
  }
  return current;
}

function parseNumber(spec: FlagSpec, raw: string): number {
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || (spec.parse === 'int' && !Number.isInteger(value))) {
    throw new InvalidArgumentError(
      `expected ${spec.parse === 'int' ? 'an integer' : 'a number'} for ${spec.key}, got '${raw}'`,
    );
  }
  // the range the run config allows for the key (e.g. a positive integer, a fraction below 1)
  const checked = keySchema(spec.key)?.safeParse(value);
  if (checked && !checked.success) {
    throw new InvalidArgumentError(
      `${checked.error.issues[0]?.message ?? 'out of range'} for ${spec.key}, got '${raw}'`,
    );
  }
  return value;
}

function parseValue(spec: FlagSpec, raw: string): unknown {
  switch (spec.parse) {
    case 'number':
    case 'int':
      return parseNumber(spec, raw);
    case 'list':
      return raw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    case 'json':
      try {
        return JSON.parse(raw);
      } catch {
        throw new InvalidArgumentError(
          `expected JSON for ${spec.key}, e.g. '{"batchNorm":true}', got '${raw}'`,
        );
      }
    default:
      return raw;
  }
}

/**
 * Flags whose values are fine alone but not together, said in flags: a validation fraction that
 * holds out none or all of a training subset.
 */
function checkFlagCombinations(options: Record<string, unknown>): void {
  const subset = options['trainSubset'];
  const fraction = options['validationFraction'];
  if (typeof subset !== 'number' || typeof fraction !== 'number' || fraction <= 0) return;
  const heldOut = Math.round(fraction * subset);
  if (heldOut >= 1 && heldOut < subset) return;
  const low = Math.ceil((0.5 / subset) * 1000) / 1000;
  const high = Math.floor(((subset - 0.5) / subset) * 1000) / 1000;
  throw new UserError(
    `--validation-fraction ${fraction} of --train-subset ${subset} holds out ${heldOut} of the ${subset} examples, leaving ${heldOut < 1 ? 'no validation split' : 'none to train on'}; ` +
      (subset < 2
        ? 'pass a larger --train-subset (at least 2), or drop --validation-fraction'
        : `pass a --validation-fraction from ${low} to below ${high}, or a larger --train-subset`),
  );
}

export function trainOptions(): Option[] {
  return TRAIN_FLAGS.map((spec) => {
    const choices = spec.choices ? choicesOf(spec.key) : undefined;
    if (spec.choices && !choices)
      throw new Error(`flag ${spec.flag}: ${spec.key} is not a choice in the run config schema`);
    const option = new Option(spec.flag, `${spec.description} [${spec.key}]`);
    if (choices) option.choices(choices);
    else if (spec.parse && spec.parse !== 'boolean') option.argParser((raw: string) => parseValue(spec, raw));
    return option;
  });
}

/** The config overrides the given flags stand for, as a nested object. */
export function overridesFromFlags(options: Record<string, unknown>): Record<string, unknown> {
  checkFlagCombinations(options);
  const overrides: Record<string, unknown> = {};
  for (const spec of TRAIN_FLAGS) {
    const value = options[optionName(spec.flag)];
    if (value !== undefined) setPath(overrides, spec.key, value);
  }
  return overrides;
}
