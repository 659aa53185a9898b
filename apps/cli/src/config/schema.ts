import { z } from 'zod';

/**
 * The run config: one file describes one run. Every key has a default except where a run cannot be
 * guessed; unknown keys are refused (a typo must not silently train the wrong thing).
 */

export const DATASET_NAMES = [
  'default',
  'fashion-mnist-embedded',
  'fashion-mnist',
  'mnist',
  'cifar10',
  'cifar100',
  'tinyimagenet',
] as const;
export const ESTIMATORS = ['exact', 'mc', 'minibatch', 'empirical'] as const;
export const BACKENDS = ['auto', 'tensorflow-gpu', 'tensorflow', 'native', 'wasm', 'cpu'] as const;

const positiveInt = z.number().int().positive();

export const NoiseSchema = z.strictObject({
  /** Fraction of training labels replaced, in [0, 1]. */
  fraction: z.number().min(0).max(1),
  /** symmetric: a uniformly random *different* class; uniform: a uniformly random class. */
  mode: z.enum(['symmetric', 'uniform']).default('symmetric'),
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
  name: z.enum(['sgd', 'adam']).default('sgd'),
  lr: z.number().positive(),
  momentum: z.number().min(0).lt(1).default(0),
  nesterov: z.boolean().default(false),
  /** L2 weight decay on kernels only (not biases or batch norm). */
  weightDecay: z.number().min(0).default(0),
});

export const ScheduleSchema = z.strictObject({
  kind: z.enum(['constant', 'step', 'cosine']).default('constant'),
  /** Linear warm-up from 0 over this many epochs (fractional allowed). */
  warmupEpochs: z.number().min(0).default(0),
  /** step: multiply the rate by `gamma` at each of these epochs. */
  milestones: z.array(positiveInt).default([]),
  gamma: z.number().positive().max(1).default(0.1),
});

export const PenaltySchema = z.strictObject({
  /** fisher: ‖mean g(x, ŷ)‖² with ŷ sampled from the model; gradnorm: with the true labels. */
  kind: z.enum(['none', 'fisher', 'gradnorm']).default('none'),
  alpha: z.number().min(0).default(0),
  /** Apply the penalty every k steps (k = 1: every step). */
  every: positiveInt.default(1),
  /** exact: double backprop; finite-difference: two-point Hessian-vector product (checked first). */
  method: z.enum(['exact', 'finite-difference']).default('exact'),
  excludeBatchNorm: z.boolean().default(true),
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
  });

export type RunConfig = z.output<typeof RunConfigSchema>;
export type RunConfigInput = z.input<typeof RunConfigSchema>;
