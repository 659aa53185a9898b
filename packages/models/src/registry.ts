import { tf } from '@fisherlab/engine';
import { type DenseNetOptions, densenet } from './archs/densenet.js';
import { type MlpOptions, mlp } from './archs/mlp.js';
import { resnet18 } from './archs/resnet.js';
import { type SimpleCnnOptions, simplecnn } from './archs/simplecnn.js';
import { type VggOptions, vgg11 } from './archs/vgg.js';
import { type WrnOptions, wrn } from './archs/wrn.js';
import { INIT_SCHEMES, type InitScheme, type ResolvedInit } from './init.js';
import { LayerBuilder } from './layers.js';

export interface CommonModelOptions {
  /** Input shape without the batch axis, channels last: [height, width, channels]. */
  inputShape: number[];
  numClasses: number;
  /** Weight initialization: 'pytorch' (default), 'tfjs' or 'reference' (see init.ts). */
  init?: InitScheme;
  /** Seed for every initializer: the same seed gives the same weights. Unset: random. */
  seed?: number;
  /** tfjs model name. Default: the arch. */
  name?: string;
}

export type ModelSpec =
  | ({ arch: 'mlp' } & CommonModelOptions & MlpOptions)
  | ({ arch: 'simplecnn' } & CommonModelOptions & SimpleCnnOptions)
  | ({ arch: 'vgg11' } & CommonModelOptions & VggOptions)
  | ({ arch: 'resnet18' } & CommonModelOptions)
  | ({ arch: 'wrn' } & CommonModelOptions & WrnOptions)
  | ({ arch: 'densenet' } & CommonModelOptions & DenseNetOptions);

export type Arch = ModelSpec['arch'];

/** Architecture-specific option names, per arch. */
const ARCH_OPTIONS: Record<Arch, readonly string[]> = {
  mlp: ['hiddenUnits'],
  simplecnn: ['filters', 'hiddenUnits'],
  vgg11: ['batchNorm'],
  resnet18: [],
  wrn: ['depth', 'width', 'dropout'],
  densenet: ['depth', 'growthRate', 'compression', 'bottleneck', 'dropout'],
};
const COMMON_OPTIONS = ['arch', 'inputShape', 'numClasses', 'init', 'seed', 'name'] as const;

export const ARCHITECTURES = Object.keys(ARCH_OPTIONS) as readonly Arch[];

/**
 * Builds one of the zoo's models. The output is LOGITS (no softmax): FisherLab's losses and Fisher
 * estimators apply the softmax themselves. Options are checked first; a bad one throws an error
 * that names it, says what was expected and how to fix it.
 */
export function createModel(spec: ModelSpec): tf.LayersModel {
  validateModelSpec(spec);
  const builder = new LayerBuilder({
    scheme: resolveInit(spec.init ?? 'pytorch', spec.arch),
    seed: spec.seed,
  });
  const input = tf.input({ shape: spec.inputShape, name: 'input' });
  const logits = buildLogits(spec, input, builder);
  return tf.model({ inputs: input, outputs: logits, name: spec.name ?? spec.arch });
}

/** 'reference' means whatever the arch's reference code does after building its layers. */
function resolveInit(init: InitScheme, arch: Arch): ResolvedInit {
  if (init !== 'reference') return init;
  return arch === 'wrn' || arch === 'densenet' ? 'kaimingNormalFanOut' : 'pytorch';
}

function buildLogits(spec: ModelSpec, input: tf.SymbolicTensor, b: LayerBuilder): tf.SymbolicTensor {
  switch (spec.arch) {
    case 'mlp':
      return mlp(input, b, spec.numClasses, spec);
    case 'simplecnn':
      return simplecnn(input, b, spec.numClasses, spec);
    case 'vgg11':
      return vgg11(input, b, spec.numClasses, spec);
    case 'resnet18':
      return resnet18(input, b, spec.numClasses);
    case 'wrn':
      return wrn(input, b, spec.numClasses, spec);
    case 'densenet':
      return densenet(input, b, spec.numClasses, spec);
  }
}

const fail = (key: string, expected: string, found: unknown, fix: string): never => {
  throw new Error(`createModel: option '${key}' must be ${expected}, found ${JSON.stringify(found)}; ${fix}`);
};

const isPositiveInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0;

function checkPositiveInt(spec: Record<string, unknown>, key: string, required: boolean): void {
  const value = spec[key];
  if (value === undefined && !required) return;
  if (!isPositiveInt(value)) fail(key, 'a positive integer', value, `set ${key} to e.g. 10`);
}

function checkRate(spec: Record<string, unknown>, key: string): void {
  const value = spec[key];
  if (value === undefined) return;
  if (typeof value !== 'number' || !(value >= 0 && value < 1)) {
    fail(key, 'a rate in [0, 1)', value, `use e.g. ${key}: 0.3, or 0 for none`);
  }
}

/** Throws a descriptive error when `spec` (typed or parsed from a config file) is not buildable. */
export function validateModelSpec(spec: unknown): asserts spec is ModelSpec {
  if (typeof spec !== 'object' || spec === null) {
    throw new Error(`createModel: expected an options object like { arch: 'vgg11', ... }, found ${spec}`);
  }
  const s = spec as Record<string, unknown>;
  const arch = s['arch'];
  if (typeof arch !== 'string' || !(ARCHITECTURES as readonly string[]).includes(arch)) {
    fail('arch', `one of ${ARCHITECTURES.join(', ')}`, arch, 'pick a known architecture');
  }
  const known = [...COMMON_OPTIONS, ...ARCH_OPTIONS[arch as Arch]];
  for (const key of Object.keys(s)) {
    if (!known.includes(key)) {
      throw new Error(
        `createModel: option '${key}' is not known for arch '${arch}'; its options are ${known.join(', ')} (fix the spelling or remove it)`,
      );
    }
  }

  const shape = s['inputShape'];
  if (!Array.isArray(shape) || !shape.every(isPositiveInt)) {
    fail('inputShape', 'an array of positive integers [height, width, channels]', shape, 'e.g. [32, 32, 3]');
  }
  const dims = shape as number[];
  if (arch !== 'mlp') {
    if (dims.length !== 3) {
      fail('inputShape', `[height, width, channels] for '${arch}'`, shape, 'e.g. [28, 28, 1] or [32, 32, 3]');
    }
    const [h, w, c] = dims as [number, number, number];
    if (c > 4 && h <= 4) {
      fail('inputShape', 'channels last (NHWC)', shape, `use [${w}, ${c}, ${h}]`);
    }
    const minSide = arch === 'simplecnn' || arch === 'densenet' ? 4 : 1;
    if (h < minSide || w < minSide) {
      fail(
        'inputShape',
        `at least ${minSide}x${minSide} for '${arch}' (it halves the map twice)`,
        shape,
        'use a larger input',
      );
    }
  }
  checkPositiveInt(s, 'numClasses', true);
  if (arch === 'simplecnn') {
    const filters = s['filters'];
    if (
      filters !== undefined &&
      !(Array.isArray(filters) && filters.length === 2 && filters.every(isPositiveInt))
    ) {
      fail('filters', 'two positive integers [conv1, conv2]', filters, 'e.g. [32, 64]');
    }
    checkPositiveInt(s, 'hiddenUnits', false);
  }
  if (s['init'] !== undefined && !(INIT_SCHEMES as readonly unknown[]).includes(s['init'])) {
    fail(
      'init',
      `one of ${INIT_SCHEMES.join(', ')}`,
      s['init'],
      "use 'pytorch' (default), 'tfjs' or 'reference'",
    );
  }
  if (s['seed'] !== undefined && !(typeof s['seed'] === 'number' && Number.isInteger(s['seed']))) {
    fail('seed', 'an integer', s['seed'], 'e.g. seed: 0, or leave it out for random weights');
  }
  if (
    s['name'] !== undefined &&
    (typeof s['name'] !== 'string' || !/^[A-Za-z0-9][-\w./]*$/.test(s['name']))
  ) {
    fail('name', 'a tfjs name (letters, digits, -, _, ., /)', s['name'], "e.g. name: 'vgg11-cifar100'");
  }

  switch (arch as Arch) {
    case 'mlp': {
      const hidden = s['hiddenUnits'];
      if (hidden !== undefined && !(Array.isArray(hidden) && hidden.every(isPositiveInt))) {
        fail('hiddenUnits', 'an array of positive integers', hidden, 'e.g. hiddenUnits: [512, 256]');
      }
      break;
    }
    case 'vgg11':
      if (s['batchNorm'] !== undefined && typeof s['batchNorm'] !== 'boolean') {
        fail('batchNorm', 'true or false', s['batchNorm'], 'e.g. batchNorm: true');
      }
      break;
    case 'wrn': {
      checkPositiveInt(s, 'depth', false);
      checkPositiveInt(s, 'width', false);
      checkRate(s, 'dropout');
      const depth = (s['depth'] as number | undefined) ?? 16;
      if ((depth - 4) % 6 !== 0 || depth < 10) {
        fail('depth', 'of the form 6n + 4 (10, 16, 22, 28, 40, …)', depth, 'e.g. depth: 16 or 28');
      }
      break;
    }
    case 'densenet': {
      checkPositiveInt(s, 'depth', false);
      checkPositiveInt(s, 'growthRate', false);
      checkRate(s, 'dropout');
      const compression = s['compression'];
      if (
        compression !== undefined &&
        !(typeof compression === 'number' && compression > 0 && compression <= 1)
      ) {
        fail('compression', 'a number in (0, 1]', compression, 'use 0.5 (DenseNet-BC) or 1 (no compression)');
      }
      if (s['bottleneck'] !== undefined && typeof s['bottleneck'] !== 'boolean') {
        fail('bottleneck', 'true or false', s['bottleneck'], 'e.g. bottleneck: true');
      }
      const bottleneck = (s['bottleneck'] as boolean | undefined) ?? true;
      const depth = (s['depth'] as number | undefined) ?? 100;
      const step = bottleneck ? 6 : 3;
      if ((depth - 4) % step !== 0 || depth < 4 + step) {
        fail(
          'depth',
          `of the form ${step}n + 4 ${bottleneck ? 'with bottlenecks (40, 100, 190, …)' : '(40, 100, …)'}`,
          depth,
          'e.g. depth: 100',
        );
      }
      break;
    }
    default:
      break;
  }
}
