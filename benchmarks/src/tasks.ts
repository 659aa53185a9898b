/** What both workers (FisherLab and PyTorch) can be asked to measure; the names are shared. */
export const TASKS = [
  'sgd-step',
  'penalty-k1',
  'penalty-k10',
  'trace-mc',
  'trace-minibatch',
  'trace-empirical',
  'trace-exact',
  'forward',
  'matmul',
] as const;
export type TaskName = (typeof TASKS)[number];

export const MODELS = ['simplecnn', 'vgg11bn', 'resnet18', 'wrn16-4', 'democnn'] as const;
export type ModelName = (typeof MODELS)[number];

/**
 * The model zoo's spec of each benchmark model (@fisherlab/models createModel, less the input shape,
 * classes and seed); reference/torch_bench.py builds the same architectures.
 */
export const ZOO_SPECS = {
  simplecnn: { arch: 'simplecnn' },
  vgg11bn: { arch: 'vgg11', batchNorm: true },
  resnet18: { arch: 'resnet18' },
  'wrn16-4': { arch: 'wrn', depth: 16, width: 4 },
  // The demo's model (packages/demo/src/plan.ts): its step is what the demo's wall time is made of.
  democnn: { arch: 'simplecnn', filters: [16, 32], hiddenUnits: 64 },
} as const satisfies Record<ModelName, { arch: string; [option: string]: unknown }>;

/**
 * The data each model is measured on: SimpleCNN on CIFAR-10's shape, VGG-11 and ResNet-18 on
 * CIFAR-100's (the paper's VGG-11 figures), WRN-16-4 on TinyImageNet's (the paper's Fig. 1 setting),
 * the demo's CNN on Fashion-MNIST's (the demo's data).
 */
export const DATA_SHAPES: Record<
  ModelName,
  { side: number; channels: number; classes: number; dataset: string }
> = {
  simplecnn: { side: 32, channels: 3, classes: 10, dataset: 'CIFAR-10' },
  vgg11bn: { side: 32, channels: 3, classes: 100, dataset: 'CIFAR-100' },
  resnet18: { side: 32, channels: 3, classes: 100, dataset: 'CIFAR-100' },
  'wrn16-4': { side: 64, channels: 3, classes: 200, dataset: 'TinyImageNet' },
  democnn: { side: 28, channels: 1, classes: 10, dataset: 'Fashion-MNIST' },
};

/**
 * The demo's batch size (packages/demo/src/plan.ts BATCH_SIZE): the demo CNN's steps are measured
 * at it, whatever --batch says. Change it here when the demo's changes.
 */
export const DEMO_BATCH = 64;

/** Models measured only for their plain and penalized steps, at their own batch size. */
export const STEP_ONLY_MODELS: Partial<Record<ModelName, number>> = { democnn: DEMO_BATCH };

/** The models' names in prose. */
export const MODEL_LABELS: Record<ModelName, string> = {
  simplecnn: 'SimpleCNN',
  vgg11bn: 'VGG-11',
  resnet18: 'ResNet-18',
  'wrn16-4': 'WRN-16-4',
  democnn: 'demo CNN',
};

/** Classes per model (DATA_SHAPES). */
export const CLASSES = Object.fromEntries(
  MODELS.map((model) => [model, DATA_SHAPES[model].classes]),
) as Record<ModelName, number>;

/**
 * The models whose steps take seconds and whose penalized step carries the memory target:
 * quick runs measure only their plain and penalized steps, on the fast backends.
 */
export const LARGE_MODELS: readonly ModelName[] = ['resnet18', 'wrn16-4'];

/** One prepared measurement, sent as-is (plus `cmd: 'prepare'`) to both workers. */
export interface TaskRequest {
  task: TaskName;
  /** Absent for 'matmul'. */
  model?: ModelName;
  classes?: number;
  /** Examples per step or per pass (trace estimators pass over `n` examples in batches of `batch`). */
  batch?: number;
  /** Tr(F): examples estimated on; matmul: the side of the square matrices. */
  n?: number;
  /** Input height and width (default 32). */
  side?: number;
  /** Input channels (default 3). */
  channels?: number;
  seed?: number;
}

/** What a worker reports after preparing a task (it also runs it untimed, up to 3 times within 3 s, to warm up). */
export interface PrepareReply {
  params?: number;
  flopsPerExample?: number;
  flops?: number;
  warmupMs: number;
  /** The task's own result (loss, Tr(F) and its standard error, ...), to see that both did the work. */
  value: unknown;
  perExampleMethod?: string;
}

export interface TimeReply {
  /** Per repetition: a run repeats the task back to back until the request's `minMs` have passed. */
  wallMs: number;
  /** Process CPU time (all threads) per repetition. */
  cpuMs: number;
  /** How many times the task ran back to back in this run (1 when the request has no minMs). */
  repetitions?: number;
  value: unknown;
  /**
   * The worker process's peak resident memory since it started (getrusage maxrss). The suite starts
   * fresh workers for each backend and model, so this is the peak of that model's runs so far.
   */
  maxRssBytes?: number;
  /** FisherLab on wasm: the wasm heap's size after the run (it only grows: a bound on the peak). */
  wasmHeapBytes?: number;
}

/** Sent with a worker's error reply: the memory it held when the request failed. */
export interface WorkerState {
  wasmHeapBytes?: number;
  maxRssBytes?: number;
}

export interface KernelCost {
  kernel: string;
  ms: number;
  calls: number;
}

export interface ProfileReply {
  /** tfjs's peak of live tensor bytes during one run. */
  peakBytes: number;
  /** Kernel time summed per kernel name, largest first. */
  kernels: KernelCost[];
  totalKernelMs: number;
}

/** The FLOPs one timed run of the task performs in forward passes (for GFLOP/s), when meaningful. */
export function forwardFlopsOfRun(
  request: TaskRequest,
  flopsPerExample: number | undefined,
): number | undefined {
  if (request.task === 'forward' && flopsPerExample !== undefined)
    return flopsPerExample * (request.batch ?? 0);
  if (request.task === 'matmul' && request.n !== undefined) return 2 * request.n ** 3;
  return undefined;
}
