import { CLASSES, type ModelName, type TaskName, type TaskRequest } from './tasks.js';

/** A FisherLab backend configuration; each runs in its own worker process. */
/**
 * What each FisherLab backend name runs. 'native' is wasm with the engine's native CPU tier
 * (oneDNN convolutions and matmuls; FISHERLAB_NATIVE=on fails the cells with the reason when the
 * addon is not built); the wasm entries turn the tier off so they keep measuring wasm alone.
 */
export const BACKENDS = {
  native: { FISHERLAB_BACKEND: 'wasm', FISHERLAB_WASM_THREADS: '1', FISHERLAB_NATIVE: 'on' },
  wasm: { FISHERLAB_BACKEND: 'wasm', FISHERLAB_WASM_THREADS: '1', FISHERLAB_NATIVE: 'off' },
  'wasm-2t': { FISHERLAB_BACKEND: 'wasm', FISHERLAB_WASM_THREADS: '2', FISHERLAB_NATIVE: 'off' },
  cpu: { FISHERLAB_BACKEND: 'cpu' },
} as const;
export type BackendName = keyof typeof BACKENDS;

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
 * The cells a run measures. The quick default keeps `pnpm bench` to minutes on two cores: fewer
 * repetitions, Tr(F) on fewer examples for VGG-11, penalty-k10 derived from k1 and plain-step
 * medians, and the tfjs cpu backend (pure JavaScript, seconds to minutes per step) on SimpleCNN's
 * cheaper tasks only. --full measures everything it can.
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
      for (const task of MODEL_TASKS.filter(wanted)) {
        const skip = (reason: string) => skipped.push({ backend, model, task, reason });
        if (cpu && vgg) {
          skip('tfjs cpu backend (pure JavaScript) takes minutes per VGG-11 step at batch 128');
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
            ? vgg
              ? 8
              : options.full
                ? 128
                : 32
            : options.full || (!vgg && task === 'trace-mc')
              ? 1024
              : 256;
        const request: TaskRequest = {
          task,
          model,
          classes: CLASSES[model],
          batch: task === 'trace-exact' && vgg ? Math.min(8, options.batch) : options.batch,
          seed: 0,
          ...(task.startsWith('trace-')
            ? { n: options.traceN ?? (cpu && !options.full ? 256 : traceN) }
            : {}),
        };
        // Quick mode times Tr(F) once per side (after the warm-up run): PyTorch's per-example loop
        // over 1,024 examples alone takes about a minute.
        const slow = vgg || cpu || task.startsWith('trace-');
        const reps = options.reps ?? (slow ? (options.full ? 3 : 1) : options.full ? 7 : 3);
        const profile = ['sgd-step', 'penalty-k1', 'trace-mc'].includes(task) && (options.full || !vgg);
        cells.push({ backend, request, reps, profile });
      }
    }
  }
  // A penalized VGG-11 step is the likeliest to exhaust the wasm heap and end its worker: run it last.
  const last = (c: Cell) => c.request.model === 'vgg11bn' && c.request.task.startsWith('penalty');
  return { cells: [...cells.filter((c) => !last(c)), ...cells.filter(last)], skipped };
}
