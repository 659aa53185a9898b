import { choicesOf, schemaOfKey, setPath } from '@fisherlab/training';
import { InvalidArgumentError, Option } from 'commander';

/**
 * The flags of `fisherlab train`, one per run-config key. The table is the single source: it builds
 * the commander options, their help (which names the key) and the override object. A flag's value
 * is checked against its key's schema (choices, range) as it is parsed; combinations of keys are
 * the run config's own checks.
 */
type Parse = 'number' | 'int' | 'boolean' | 'list' | 'json' | 'choice';

export interface FlagSpec {
  flag: string;
  key: string;
  description: string;
  /** How the value is read; 'choice': commander offers (and checks) the values the schema allows. */
  parse?: Parse;
}

const TABLE: [flag: string, key: string, description: string, parse?: Parse][] = [
  ['--name <text>', 'name', 'label of the run in reports'],
  ['--tags <a,b>', 'tags', 'comma-separated tags', 'list'],
  ['--dataset <name>', 'dataset.name', 'dataset'],
  ['--data-dir <dir>', 'dataset.dir', 'directory holding the dataset files'],
  ['--train-subset <n>', 'dataset.trainSubset', 'class-balanced training subset', 'int'],
  ['--test-subset <n>', 'dataset.testSubset', 'first-N test subset', 'int'],
  ['--validation-fraction <f>', 'dataset.validationFraction', 'held-out fraction of train', 'number'],
  ['--noise <fraction>', 'dataset.noise.fraction', 'fraction of training labels replaced', 'number'],
  ['--noise-mode <mode>', 'dataset.noise.mode', 'label noise', 'choice'],
  ['--augment', 'dataset.augment', 'random crop (4-px padding) + horizontal flip', 'boolean'],
  ['--arch <name>', 'model.arch', 'model architecture'],
  ['--model-options <json>', 'model.options', 'architecture options as JSON', 'json'],
  ['--optimizer <name>', 'optimizer.name', 'optimizer', 'choice'],
  ['--lr <rate>', 'optimizer.lr', 'learning rate', 'number'],
  ['--momentum <m>', 'optimizer.momentum', 'SGD momentum', 'number'],
  ['--nesterov', 'optimizer.nesterov', 'Nesterov momentum', 'boolean'],
  ['--weight-decay <l2>', 'optimizer.weightDecay', 'L2 on kernels', 'number'],
  ['--schedule <kind>', 'schedule.kind', 'learning-rate schedule', 'choice'],
  ['--warmup-epochs <e>', 'schedule.warmupEpochs', 'linear warm-up epochs', 'number'],
  ['--batch-size <n>', 'batchSize', 'batch size', 'int'],
  ['--epochs <n>', 'epochs', 'training epochs', 'int'],
  ['--steps <n>', 'steps', 'training steps (instead of epochs)', 'int'],
  ['--penalty <kind>', 'penalty.kind', 'penalty', 'choice'],
  ['--alpha <a>', 'penalty.alpha', 'penalty strength α', 'number'],
  ['--penalty-every <k>', 'penalty.every', 'apply the penalty every k steps', 'int'],
  ['--penalty-method <m>', 'penalty.method', 'how the penalty gradient is computed', 'choice'],
  ['--estimator <name>', 'tracking.estimator', 'Tr(F) estimator', 'choice'],
  ['--track-subset <n>', 'tracking.subset', 'examples Tr(F) is measured on (0: off)', 'int'],
  ['--track-every <n>', 'tracking.every', 'measure Tr(F) every N steps', 'int'],
  [
    '--curvature-every <m>',
    'tracking.curvatureEveryEpochs',
    'Tr(H) and top eigenvalue every M epochs (0: off)',
    'int',
  ],
  ['--log-every <n>', 'logEvery', 'training log line every N steps', 'int'],
  ['--seed <s>', 'seed', 'seed for init, shuffling, augmentation, noise, sampled labels', 'int'],
  ['--backend <name>', 'backend', 'compute backend', 'choice'],
  ['--output <dir>', 'output', 'run directory'],
];

export const TRAIN_FLAGS: readonly FlagSpec[] = TABLE.map(([flag, key, description, parse]) => ({
  flag,
  key,
  description,
  ...(parse ? { parse } : {}),
}));

const optionName = (flag: string): string =>
  flag
    .split(' ')[0]!
    .replace(/^--/, '')
    .replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

function parseNumber(spec: FlagSpec, raw: string): number {
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || (spec.parse === 'int' && !Number.isInteger(value))) {
    throw new InvalidArgumentError(
      `expected ${spec.parse === 'int' ? 'an integer' : 'a number'} for ${spec.key}, got '${raw}'`,
    );
  }
  // the range the run config allows for the key (e.g. a positive integer, a fraction below 1)
  const checked = schemaOfKey(spec.key)?.safeParse(value);
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

export function trainOptions(): Option[] {
  return TRAIN_FLAGS.map((spec) => {
    const option = new Option(spec.flag, `${spec.description} [${spec.key}]`);
    if (spec.parse === 'choice') {
      const choices = choicesOf(spec.key);
      if (!choices)
        throw new Error(`flag ${spec.flag}: ${spec.key} is not a choice in the run config schema`);
      option.choices(choices);
    } else if (spec.parse && spec.parse !== 'boolean') {
      option.argParser((raw: string) => parseValue(spec, raw));
    }
    return option;
  });
}

/** The config overrides the given flags stand for, as a nested object. */
export function overridesFromFlags(options: Record<string, unknown>): Record<string, unknown> {
  const overrides: Record<string, unknown> = {};
  for (const spec of TRAIN_FLAGS) {
    const value = options[optionName(spec.flag)];
    if (value !== undefined) setPath(overrides, spec.key, value);
  }
  return overrides;
}
