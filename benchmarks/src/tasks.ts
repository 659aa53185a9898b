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

export const MODELS = ['simplecnn', 'vgg11bn'] as const;
export type ModelName = (typeof MODELS)[number];

/** Classes per model: SimpleCNN as on CIFAR-10, VGG-11 as in the paper's CIFAR-100 figures. */
export const CLASSES: Record<ModelName, number> = { simplecnn: 10, vgg11bn: 100 };

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
  side?: number;
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
  wallMs: number;
  /** Process CPU time (all threads) during the run. */
  cpuMs: number;
  value: unknown;
  maxRssBytes?: number;
  /** FisherLab on wasm: the wasm heap's size after the run (it only grows: a bound on the peak). */
  wasmHeapBytes?: number;
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
