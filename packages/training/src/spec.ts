import { InputError } from '@fisherlab/core';
import { DATASET_NAMES as CATALOG_DATASETS, RANDOM_NOISE_MODES } from '@fisherlab/datasets';
import { BACKEND_PREFERENCE } from '@fisherlab/engine';
import {
  EXCLUDE_BATCH_NORM_DEFAULT,
  PENALTY_KINDS,
  PENALTY_METHODS,
  TRACE_ESTIMATORS,
} from '@fisherlab/fisher';
import { z } from 'zod';
import { OPTIMIZER_NAMES } from './optimizer.js';
import { SCHEDULE_KINDS } from './schedule.js';

/**
 * The run spec (a run config file's contents): one spec describes one run. Every key has a default
 * except where a run cannot be guessed; unknown keys are refused (a typo must not silently train
 * the wrong thing). The choices come from the packages that implement them.
 */

/** Datasets a spec can name: the catalog's, plus 'default' (the embedded Fashion-MNIST subset). */
export const DATASET_NAMES = ['default', ...CATALOG_DATASETS] as const;
export const ESTIMATORS = TRACE_ESTIMATORS;
export const BACKENDS = ['auto', ...BACKEND_PREFERENCE] as const;

const positiveInt = z.number().int().positive();

export const NoiseSchema = z.strictObject({
  /** Fraction of training labels replaced, in [0, 1]. */
  fraction: z.number().min(0).max(1),
  /** symmetric: a uniformly random *different* class; uniform: a uniformly random class. */
  mode: z.enum(RANDOM_NOISE_MODES).default('symmetric'),
});

export const DatasetSchema = z.strictObject({
  name: z.enum(DATASET_NAMES).default('default'),
  /** Directory holding the dataset files; otherwise FISHERLAB_DATA, the cache, then system paths. */
  dir: z.string().optional(),
  /** Class-balanced subset of the training set (all of it when absent). */
  trainSubset: positiveInt.optional(),
  /** First-N subset of the test set (all of it when absent). */
  testSubset: positiveInt.optional(),
  /** Fraction of the training set held out (seeded) as a validation split; 0 for none. */
  validationFraction: z.number().min(0).lt(1).default(0),
  noise: NoiseSchema.nullable().default(null),
  /** Random crop with 4-pixel padding and horizontal flip, for training batches only. */
  augment: z.boolean().default(false),
  /** CIFAR-100 only: train on the 20 coarse labels instead of the 100 fine ones. */
  coarseLabels: z.boolean().default(false),
});

export const ModelSchema = z.strictObject({
  arch: z.string().min(1).default('simplecnn'),
  /** Architecture options (depth, width, batchNorm, dropout, ...), checked by the model registry. */
  options: z.record(z.string(), z.unknown()).default({}),
});

export const OptimizerSchema = z.strictObject({
  name: z.enum(OPTIMIZER_NAMES).default('sgd'),
  lr: z.number().positive(),
  momentum: z.number().min(0).lt(1).default(0),
  nesterov: z.boolean().default(false),
  /** L2 weight decay on kernels only (not biases or batch norm). */
  weightDecay: z.number().min(0).default(0),
});

export const ScheduleSchema = z.strictObject({
  kind: z.enum(SCHEDULE_KINDS).default('constant'),
  /** Linear warm-up from 0 over this many epochs (fractional allowed). */
  warmupEpochs: z.number().min(0).default(0),
  /** step: multiply the rate by `gamma` at each of these epochs. */
  milestones: z.array(positiveInt).default([]),
  gamma: z.number().positive().max(1).default(0.1),
});

export const PenaltySchema = z.strictObject({
  /** fisher: ‖mean g(x, ŷ)‖² with ŷ sampled from the model; gradnorm: with the true labels. */
  kind: z.enum(['none', ...PENALTY_KINDS]).default('none'),
  alpha: z.number().min(0).default(0),
  /** Apply the penalty every k steps (k = 1: every step). */
  every: positiveInt.default(1),
  /** exact: double backprop; finite-difference: two-point Hessian-vector product (checked first). */
  method: z.enum(PENALTY_METHODS).default('exact'),
  /**
   * Leave BatchNorm's gamma/beta out of ‖ḡ‖². Default false, as in FisherPenalty (one constant,
   * EXCLUDE_BATCH_NORM_DEFAULT): the penalty then covers the same weights as the tracked Tr(F).
   */
  excludeBatchNorm: z.boolean().default(EXCLUDE_BATCH_NORM_DEFAULT),
});

export const TrackingSchema = z.strictObject({
  estimator: z.enum(ESTIMATORS).default('mc'),
  /** Size of the fixed training subset Tr(F) is measured on; 0 turns tracking off. */
  subset: z.number().int().min(0).default(512),
  /** Measure Tr(F) every N steps... */
  every: positiveInt.default(50),
  /** ...and every `earlyEvery` steps during the first `earlyEpochs` epochs, to catch the early peak. */
  earlyEpochs: z.number().min(0).default(2),
  earlyEvery: positiveInt.default(10),
  /** Curvature probes (Hutchinson Tr(H), top Hessian eigenvalue) every M epochs; 0 = off. */
  curvatureEveryEpochs: z.number().int().min(0).default(0),
  curvatureSubset: positiveInt.default(256),
});

export const EvaluationSchema = z.strictObject({
  everyEpochs: positiveInt.default(1),
  /** Training examples evaluated for train/clean/noisy accuracy; 0 = the whole training set. */
  trainSubset: z.number().int().min(0).default(0),
});

export const RunConfigSchema = z
  .strictObject({
    name: z.string().default(''),
    tags: z.array(z.string()).default([]),
    dataset: DatasetSchema.prefault({}),
    model: ModelSchema.prefault({}),
    optimizer: OptimizerSchema,
    schedule: ScheduleSchema.prefault({}),
    batchSize: positiveInt.default(128),
    /** Training length: epochs, or steps (one of the two). */
    epochs: positiveInt.optional(),
    steps: positiveInt.optional(),
    penalty: PenaltySchema.prefault({}),
    tracking: TrackingSchema.prefault({}),
    evaluation: EvaluationSchema.prefault({}),
    /** Logged training line every N steps (averaged over them). */
    logEvery: positiveInt.default(10),
    seed: z.number().int().min(0).default(0),
    backend: z.enum(BACKENDS).default('auto'),
    /** Run directory (records, checkpoints). */
    output: z.string().default('fisherlab-runs/run'),
  })
  .check((ctx) => {
    const c = ctx.value;
    if (c.epochs === undefined && c.steps === undefined) {
      ctx.issues.push({ code: 'custom', input: c, path: ['epochs'], message: 'set either epochs or steps' });
    }
    if (c.epochs !== undefined && c.steps !== undefined) {
      ctx.issues.push({
        code: 'custom',
        input: c,
        path: ['steps'],
        message: 'set epochs or steps, not both',
      });
    }
    if (c.penalty.kind !== 'none' && c.penalty.alpha === 0) {
      ctx.issues.push({
        code: 'custom',
        input: c,
        path: ['penalty', 'alpha'],
        message: `penalty.kind is '${c.penalty.kind}' but alpha is 0: set alpha > 0 or kind 'none'`,
      });
    }
    if (c.dataset.coarseLabels && c.dataset.name !== 'cifar100') {
      ctx.issues.push({
        code: 'custom',
        input: c,
        path: ['dataset', 'coarseLabels'],
        message: 'coarseLabels applies to cifar100 only',
      });
    }
    const heldOut = validationProblem(c.dataset.trainSubset, c.dataset.validationFraction);
    if (heldOut) {
      ctx.issues.push({
        code: 'custom',
        input: c,
        path: ['dataset', 'validationFraction'],
        message: heldOut,
      });
    }
  });

/**
 * A validation fraction that holds out none or all of a training subset (each value fine alone),
 * said with the range that works.
 */
function validationProblem(subset: number | undefined, fraction: number): string | undefined {
  if (subset === undefined || fraction <= 0) return undefined;
  const heldOut = Math.round(fraction * subset);
  if (heldOut >= 1 && heldOut < subset) return undefined;
  const low = Math.ceil((0.5 / subset) * 1000) / 1000;
  const high = Math.floor(((subset - 0.5) / subset) * 1000) / 1000;
  return (
    `${fraction} of dataset.trainSubset ${subset} holds out ${heldOut} of the ${subset} examples, leaving ${heldOut < 1 ? 'no validation split' : 'none to train on'}; ` +
    (subset < 2
      ? 'set a larger dataset.trainSubset (at least 2), or no validation fraction'
      : `set dataset.validationFraction from ${low} to below ${high}, or a larger dataset.trainSubset`)
  );
}

export type RunConfig = z.output<typeof RunConfigSchema>;
export type RunConfigInput = z.input<typeof RunConfigSchema>;

/** Unwraps defaults, optionals, nullables, pipes and checks until `done` holds (or nothing is left). */
function unwrap(schema: z.ZodType | undefined, done: (s: z.ZodType) => boolean): z.ZodType | undefined {
  let current = schema;
  for (let i = 0; i < 8 && current && !done(current); i++) {
    const def = (current as unknown as { def: { innerType?: z.ZodType; in?: z.ZodType } }).def;
    current = def.innerType ?? def.in;
  }
  return current;
}

/** The schema of the value at `keyPath` (e.g. ['optimizer', 'name']), through the nested objects. */
function schemaAt(schema: z.ZodType, keyPath: readonly PropertyKey[]): z.ZodType | undefined {
  let current: z.ZodType | undefined = schema;
  for (const key of keyPath) {
    const object = unwrap(current, (s) => s instanceof z.ZodObject);
    if (!(object instanceof z.ZodObject)) return undefined;
    current = object.shape[String(key)] as z.ZodType | undefined;
  }
  return current;
}

/** Keys a strict object at `keyPath` of the schema accepts, to list in an "unknown key" error. */
function allowedKeysAt(schema: z.ZodType, keyPath: readonly PropertyKey[]): string[] | undefined {
  const object = unwrap(schemaAt(schema, keyPath), (s) => s instanceof z.ZodObject);
  return object instanceof z.ZodObject ? Object.keys(object.shape) : undefined;
}

/**
 * The values a run-config key takes when it is a choice (e.g. 'optimizer.name' → ['sgd', 'adam']),
 * or undefined: what command-line flags offer, from the one schema.
 */
export function choicesOf(dottedKey: string): readonly string[] | undefined {
  const value = unwrap(schemaAt(RunConfigSchema, dottedKey.split('.')), (s) => s instanceof z.ZodEnum);
  return value instanceof z.ZodEnum ? (value.options as string[]) : undefined;
}

/**
 * The schema of one run-config key (e.g. 'optimizer.lr'), its own range checks included, or
 * undefined: what a command-line flag for the key checks its value against.
 */
export function schemaOfKey(dottedKey: string): z.ZodType | undefined {
  return schemaAt(RunConfigSchema, dottedKey.split('.'));
}

/** One line per problem: the key's path, what was wrong, and what is allowed. */
export function formatConfigIssues(
  error: z.ZodError,
  source: string,
  schema: z.ZodType = RunConfigSchema,
): string {
  const lines = error.issues.map((issue) => {
    const where = issue.path.length ? issue.path.join('.') : '(top level)';
    if (issue.code === 'unrecognized_keys') {
      const allowed = allowedKeysAt(schema, issue.path);
      const keys = issue.keys.map((k) => (issue.path.length ? `${where}.${k}` : k)).join(', ');
      return `unknown key ${keys}${allowed ? `; allowed here: ${allowed.join(', ')}` : ''}`;
    }
    const missing = issue.code === 'invalid_type' && /received undefined/.test(issue.message);
    if (missing && (where === 'optimizer' || where === 'optimizer.lr')) {
      return 'optimizer.lr is required (the learning rate has no default: it is what the experiments vary): set optimizer.lr, e.g. { optimizer: { lr: 0.01 } }';
    }
    return `${where}: ${issue.message}`;
  });
  return `invalid run config (${source}):\n  ${lines.join('\n  ')}`;
}

/**
 * Validates a run config (from a file, a preset, flags or code), filling in defaults. An InputError
 * lists every problem; its `key` is the first problem's key path (e.g. 'optimizer.lr').
 */
export function parseRunConfig(input: unknown, source = 'config'): RunConfig {
  const result = RunConfigSchema.safeParse(input);
  if (!result.success) {
    const [first] = result.error.issues;
    const lrMissing = formatConfigIssues(result.error, source).includes('optimizer.lr is required');
    const key = lrMissing ? 'optimizer.lr' : first?.path.length ? first.path.join('.') : undefined;
    const problems = formatConfigIssues(result.error, source).split('\n').slice(1);
    throw new InputError({
      where: `invalid run config (${source})`,
      ...(key ? { key } : {}),
      expected: 'a run spec the schema accepts',
      found: `${problems.length} problem(s):\n${problems.join('\n')}\n`,
      fix: 'change the keys named above (every key left out has a default; unknown keys are refused)',
    });
  }
  return result.data;
}
