import {
  DATA_SHAPES,
  LARGE_MODELS,
  MODEL_LABELS,
  type ModelName,
  STEP_ONLY_MODELS,
  type TaskName,
  type TaskRequest,
} from './tasks.js';

/**
 * What each FisherLab backend name runs; each runs in its own worker processes. 'native' is the
 * engine's native backend (tensors in JS memory, the addon's oneDNN and element-wise kernels; it
 * fails the cells with the reason when the addon is not built); 'wasm-native' is wasm with the
 * same kernels on the wasm heap (4 GiB); the wasm entries turn the kernels off so they keep
 * measuring wasm alone; 'auto' is whatever initBackend picks by itself, as a user's run gets.
 */
export const BACKENDS = {
  auto: { FISHERLAB_BACKEND: 'auto' },
  native: { FISHERLAB_BACKEND: 'native' },
  'wasm-native': { FISHERLAB_BACKEND: 'wasm', FISHERLAB_WASM_THREADS: '1', FISHERLAB_NATIVE: 'on' },
  wasm: { FISHERLAB_BACKEND: 'wasm', FISHERLAB_WASM_THREADS: '1', FISHERLAB_NATIVE: 'off' },
  'wasm-2t': { FISHERLAB_BACKEND: 'wasm', FISHERLAB_WASM_THREADS: '2', FISHERLAB_NATIVE: 'off' },
  cpu: { FISHERLAB_BACKEND: 'cpu' },
} as const;
export type BackendName = keyof typeof BACKENDS;

/** The backends that run the large models' steps in seconds rather than minutes. */
const FAST_BACKENDS: readonly BackendName[] = ['auto', 'native', 'wasm-native'];

export interface PlanOptions {
  full: boolean;
  backends: BackendName[];
  models: ModelName[];
  /** Restrict to these tasks (default: all the mode runs). */
  tasks?: TaskName[];
  /** Override the repetitions of every cell. */
  reps?: number;
  batch: number;
  /** Override the examples of every Tr(F) cell (a quick look; the reported figure is on 1,024). */
  traceN?: number;
}

export interface Cell {
  backend: BackendName;
  request: TaskRequest;
  reps: number;
  /** Also take a tfjs kernel profile of one run (FisherLab side). */
  profile: boolean;
}

export interface SkippedCell {
  backend: BackendName;
  model?: ModelName;
  task: TaskName;
  reason: string;
}

const MODEL_TASKS: TaskName[] = [
  'sgd-step',
  'penalty-k1',
  'penalty-k10',
  'trace-mc',
  'trace-minibatch',
  'trace-empirical',
  'trace-exact',
  'forward',
];

/**
 * The cells a run measures, each backend's cells grouped by model (the suite starts fresh workers
 * for each group, so a model's peak memory is its own). The quick default keeps `pnpm bench` to
 * minutes on two cores: fewer repetitions, Tr(F) on fewer examples for VGG-11, penalty-k10 derived
 * from k1 and plain-step medians, the tfjs cpu backend (pure JavaScript, seconds to minutes per
 * step) on SimpleCNN's cheaper tasks only, and ResNet-18 and WRN-16-4 only for their plain and
 * penalized steps on the fast backends. --full measures everything it can.
 */
export function buildPlan(options: PlanOptions): { cells: Cell[]; skipped: SkippedCell[] } {
  const cells: Cell[] = [];
  const skipped: SkippedCell[] = [];
  const wanted = (task: TaskName) => !options.tasks || options.tasks.includes(task);
  for (const backend of options.backends) {
    const cpu = backend === 'cpu';
    if (wanted('matmul')) {
      cells.push({
        backend,
        request: { task: 'matmul', n: 1024, seed: 0 },
        reps: options.reps ?? (cpu ? 1 : 3),
        profile: false,
      });
    }
    for (const model of options.models) {
      const vgg = model === 'vgg11bn';
      const large = LARGE_MODELS.includes(model);
      for (const task of MODEL_TASKS.filter(wanted)) {
        const skip = (reason: string) => skipped.push({ backend, model, task, reason });
        if (cpu && (vgg || large)) {
          skip(
            `tfjs cpu backend (pure JavaScript) takes minutes per ${MODEL_LABELS[model]} step at batch 128`,
          );
          continue;
        }
        const ownBatch = STEP_ONLY_MODELS[model];
        if (ownBatch !== undefined && !['sgd-step', 'penalty-k1'].includes(task)) {
          skip(`${MODEL_LABELS[model]} runs only the plain step and penalty k=1, at batch ${ownBatch}`);
          continue;
        }
        if (large && !options.full && !['sgd-step', 'penalty-k1'].includes(task)) {
          skip(`${MODEL_LABELS[model]} runs only the plain step and penalty k=1 without --full`);
          continue;
        }
        if (large && !options.full && !FAST_BACKENDS.includes(backend)) {
          skip(
            `${MODEL_LABELS[model]} on ${backend}: wasm alone takes about 7x the native tier's time per step (ResNet-18: 18 s); measured with --full`,
          );
          continue;
        }
        if (cpu && !options.full && task !== 'forward') {
          skip(
            'tfjs cpu backend: its Conv2DBackpropFilter alone takes ~11 s at batch 8 (minutes at 128); ' +
              'only forward (and matmul) without --full',
          );
          continue;
        }
        if (vgg && !options.full && !['sgd-step', 'penalty-k1', 'forward', 'trace-mc'].includes(task)) {
          skip('VGG-11 runs only the plain step, penalty k=1, forward and trace-mc without --full');
          continue;
        }
        if (backend === 'wasm-2t' && !options.full && !['sgd-step', 'penalty-k1', 'forward'].includes(task)) {
          skip('threaded wasm runs only the plain step, penalty k=1 and forward without --full');
          continue;
        }
        if (task === 'penalty-k10' && !options.full) {
          skip('derived from the penalty-k1 and sgd-step medians, (k1 + 9 plain)/10; measured with --full');
          continue;
        }
        // Quick mode: Tr(F) 'mc' (the target) on 1,024 examples for SimpleCNN, the others on 256.
        const traceN =
          task === 'trace-exact'
            ? vgg || large
              ? 8
              : options.full
                ? 128
                : 32
            : options.full || (!vgg && !large && task === 'trace-mc')
              ? 1024
              : 256;
        const request: TaskRequest = {
          task,
          model,
          classes: DATA_SHAPES[model].classes,
          side: DATA_SHAPES[model].side,
          channels: DATA_SHAPES[model].channels,
          batch:
            ownBatch ??
            (task === 'trace-exact' && (vgg || large) ? Math.min(8, options.batch) : options.batch),
          seed: 0,
          ...(task.startsWith('trace-')
            ? { n: options.traceN ?? (cpu && !options.full ? 256 : traceN) }
            : {}),
        };
        // Quick mode times Tr(F) once per side (after the warm-up run): PyTorch's per-example loop
        // over 1,024 examples alone takes about a minute.
        const slow = vgg || large || cpu || task.startsWith('trace-');
        const reps = options.reps ?? (slow ? (options.full ? 3 : 1) : options.full ? 7 : 3);
        const profile =
          ['sgd-step', 'penalty-k1', 'trace-mc'].includes(task) && (options.full || !(vgg || large));
        cells.push({ backend, request, reps, profile });
      }
    }
  }
  return { cells, skipped };
}

/**
 * Consecutive cells of one backend and one model (matmul: no model), in order: the suite runs each
 * group on fresh FisherLab and PyTorch workers, so a heap exhausted by one model ends no other
 * model's runs and each process's peak resident memory belongs to the group's model.
 */
export function groupCells(cells: readonly Cell[]): Cell[][] {
  const groups: Cell[][] = [];
  for (const cell of cells) {
    const last = groups.at(-1)?.[0];
    if (last && last.backend === cell.backend && last.request.model === cell.request.model) {
      groups.at(-1)!.push(cell);
    } else groups.push([cell]);
  }
  return groups;
}
