import type { BackendName, SkippedCell } from './plan.js';
import { describeReference, type ReferenceConfiguration, SLOW_REFERENCE_MARK } from './reference.js';
import { median, pairedRatio, type RatioSummary } from './stats.js';
import {
  DATA_SHAPES,
  DEMO_BATCH,
  type ModelName,
  type ProfileReply,
  STEP_ONLY_MODELS,
  type TaskRequest,
  type TimeReply,
  type WorkerState,
} from './tasks.js';

/** Why a side's runs stopped: the heap ran out, the run outlasted its limit, the worker ended, or another error. */
export type FailureKind = 'out of memory' | 'timeout' | 'worker ended' | 'error';

export interface Failure {
  side: 'fisherlab' | 'pytorch';
  kind: FailureKind;
  /** The first line of the worker's message. */
  message: string;
  /** The memory the worker held when it failed, when it could still say. */
  state?: WorkerState;
}

export interface CellResult {
  backend: BackendName;
  request: TaskRequest;
  fisherlab: { prepare: Record<string, unknown>; runs: TimeReply[]; profile?: ProfileReply };
  pytorch?: { prepare: Record<string, unknown>; runs: TimeReply[] };
  /** The first failure's message (results files before `failures` have only this). */
  error?: string;
  /** Each side's failure, at most one per side. */
  failures?: Failure[];
}

/**
 * The kind of a worker failure, from its message. The wasm heap's exhaustion surfaces as the fisher
 * package's "ran out of memory" explanation, as tfjs/emscripten aborts ("Aborted(OOM)", "Cannot
 * enlarge memory", "memory access out of bounds"), as V8's "Array buffer allocation failed", or as
 * the worker's death with one of those as its last words; PyTorch's as "not enough memory".
 */
export function classifyFailure(message: string): FailureKind {
  if (
    /ran out of memory|out of memory|not enough memory|\bOOM\b|Cannot enlarge memory|memory access out of bounds|allocation failed|Aborted\(\)/i.test(
      message,
    )
  )
    return 'out of memory';
  if (/took longer than/.test(message)) return 'timeout';
  if (/worker exited|worker killed|could not start/.test(message)) return 'worker ended';
  return 'error';
}

/** How much memory a backend's tensors may take, and what sets that limit. */
export interface MemoryCeiling {
  /** null where the backend cannot tell (a GPU's memory under libtensorflow). */
  bytes: number | null;
  reason: string;
  /** 'engine': the engine's BackendReport said so; 'derived': the suite inferred it from the backend. */
  from: 'engine' | 'derived';
}

const WASM_HEAP_BYTES = 4 * 2 ** 30;

/**
 * The memory ceiling of the backend a FisherLab worker runs on, from its hello: the engine's own
 * `memoryCeiling` when its BackendReport has one; otherwise derived from the backend: wasm (with or
 * without the native tier, whose kernels work on the wasm heap) keeps every tensor in the wasm32
 * heap, 4 GiB; the cpu backend and any other CPU backend keep them in process memory, bounded by RAM.
 */
export function memoryCeiling(info: Record<string, unknown>): MemoryCeiling {
  const reported = info['memoryCeiling'] as { bytes?: unknown; reason?: unknown } | undefined;
  if (
    reported &&
    (typeof reported.bytes === 'number' || reported.bytes === null) &&
    typeof reported.reason === 'string'
  ) {
    return { bytes: reported.bytes, reason: reported.reason, from: 'engine' };
  }
  const backend = String(info['tfBackend'] ?? info['backend'] ?? '');
  const ram = typeof info['totalMemBytes'] === 'number' ? info['totalMemBytes'] : null;
  if (backend === 'wasm') {
    return {
      bytes: ram === null ? WASM_HEAP_BYTES : Math.min(WASM_HEAP_BYTES, ram),
      reason: 'tensors live in the wasm32 heap, which cannot grow past 4 GiB',
      from: 'derived',
    };
  }
  if (backend === 'tensorflow-gpu') {
    return { bytes: null, reason: "tensors live in the GPU's memory", from: 'derived' };
  }
  return { bytes: ram, reason: 'tensors live in process memory, bounded by RAM', from: 'derived' };
}

const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(2)} GiB`;

export function describeCeiling(ceiling: MemoryCeiling): string {
  return `${ceiling.bytes === null ? 'unknown' : gib(ceiling.bytes)} (${ceiling.reason}${ceiling.from === 'derived' ? '; derived from the backend' : ''})`;
}

export interface Machine {
  date: string;
  cpus: string;
  cores: number;
  memoryGiB: number;
  node: string;
  /** /proc/loadavg at the start and the end of the run. */
  loadAvgStart: string;
  loadAvgEnd?: string;
  /** The allocator settings both workers ran with (see STEADY_MALLOC in suite.ts). */
  malloc?: string;
  /** Idle time before each timed run, and the least time a run repeats its task for (suite.ts). */
  timing?: { settleMs: number; minRunMs: number };
  fisherlab: Record<string, Record<string, unknown>>;
  /** Each FisherLab backend's memory ceiling in effect (memoryCeiling of its worker's hello). */
  memoryCeilings?: Record<string, MemoryCeiling>;
  /** The PyTorch worker's hello, with the raw facts of its `reference` configuration. */
  pytorch?: Record<string, unknown>;
  /** What PyTorch computed with (BLAS, oneDNN, matmul rate), and why it was too slow if it was. */
  reference?: ReferenceConfiguration;
}

export interface SuiteResults {
  mode: 'quick' | 'full';
  machine: Machine;
  cells: CellResult[];
  skipped: SkippedCell[];
}

export interface Line {
  backend: BackendName;
  model: string;
  task: string;
  examples?: number;
  fisherlabMs: number;
  pytorchMs?: number;
  wall?: RatioSummary;
  /** Ratio of median process CPU times (all threads); less disturbed by other jobs than wall time. */
  cpuRatio?: number;
  /** Forward FLOPs per second reached, for 'forward' and 'matmul'. */
  fisherlabGflops?: number;
  pytorchGflops?: number;
  /** Each side's peak resident memory over the cell's runs (its worker's, since it started for this model). */
  fisherlabPeakRssBytes?: number;
  pytorchPeakRssBytes?: number;
  /** FisherLab's peak resident memory over PyTorch's. */
  rssRatio?: number;
}

/** The largest maxRssBytes of the runs, or undefined when none reported one. */
export function peakRss(runs: readonly TimeReply[]): number | undefined {
  const reported = runs.map((r) => r.maxRssBytes).filter((b): b is number => typeof b === 'number' && b > 0);
  return reported.length ? Math.max(...reported) : undefined;
}

const walls = (runs: TimeReply[]) => runs.map((r) => r.wallMs);
const cpus = (runs: TimeReply[]) => runs.map((r) => r.cpuMs);

export function lineOf(cell: CellResult): Line | undefined {
  if (fisherlabFailure(cell) || cell.fisherlab.runs.length === 0) return undefined;
  const { request } = cell;
  // penalty-k10 times ten steps per run; report it per step like the others.
  const perRun = request.task === 'penalty-k10' ? 10 : 1;
  const fisherlabMs = median(walls(cell.fisherlab.runs)) / perRun;
  const line: Line = {
    backend: cell.backend,
    model: request.model ?? '-',
    task: request.task,
    ...(request.task.startsWith('trace-') ? { examples: request.n } : {}),
    fisherlabMs,
  };
  const flopsPerExample = cell.fisherlab.prepare['flopsPerExample'] as number | undefined;
  const flops =
    request.task === 'forward'
      ? (flopsPerExample ?? 0) * (request.batch ?? 0)
      : request.task === 'matmul'
        ? 2 * (request.n ?? 0) ** 3
        : undefined;
  if (flops) line.fisherlabGflops = flops / fisherlabMs / 1e6;
  const ourRss = peakRss(cell.fisherlab.runs);
  const theirRss = cell.pytorch ? peakRss(cell.pytorch.runs) : undefined;
  if (ourRss) line.fisherlabPeakRssBytes = ourRss;
  if (theirRss) line.pytorchPeakRssBytes = theirRss;
  if (ourRss && theirRss) line.rssRatio = ourRss / theirRss;
  if (cell.pytorch && cell.pytorch.runs.length === cell.fisherlab.runs.length) {
    line.pytorchMs = median(walls(cell.pytorch.runs)) / perRun;
    line.wall = pairedRatio(walls(cell.fisherlab.runs), walls(cell.pytorch.runs));
    line.cpuRatio = median(cpus(cell.fisherlab.runs)) / median(cpus(cell.pytorch.runs));
    if (flops) line.pytorchGflops = flops / line.pytorchMs / 1e6;
  }
  return line;
}

/** A target with the measured value (NaN where the measurement failed) and its bound. */
export interface Target {
  name: string;
  value: number;
  bound: number;
  met: boolean;
  /** Why nothing was measured (a failure's kind), when the value is NaN. */
  note?: string;
}

export interface Derived {
  text: string;
  /** For targets: measured value and the bound, or undefined where not measured. */
  target?: Target;
}

/**
 * Issue 29's targets, judged row by row (each backend for itself) in one paired run at batch 128
 * (the demo CNN at the demo's batch, DEMO_BATCH): the plain and penalized steps at most PyTorch's
 * wall time for SimpleCNN, VGG-11-BN, ResNet-18, WRN-16-4 and the demo CNN; every row runs (no
 * heap error) with a peak resident memory at most 1.5x PyTorch's; Tr(F) 'mc' at most half
 * PyTorch's per-example time.
 */
export const TARGETS = {
  stepTime: {
    models: ['simplecnn', 'vgg11bn', 'resnet18', 'wrn16-4', 'democnn'],
    tasks: ['sgd-step', 'penalty-k1'],
    bound: 1,
  },
  memory: { bound: 1.5 },
  traceMcTime: { bound: 0.5 },
  batch: 128,
} as const;

/** The failure of one side in this cell, if that side failed (its runs stopped or never started). */
function failureOf(cell: CellResult, side: Failure['side']): Failure | undefined {
  if (cell.failures) return cell.failures.find((f) => f.side === side);
  // Older results files: `error` alone, FisherLab's.
  return side === 'fisherlab' && cell.error
    ? { side, kind: classifyFailure(cell.error), message: cell.error }
    : undefined;
}

/** The kind of FisherLab's failure in this cell, if it failed. */
function fisherlabFailure(cell: CellResult): FailureKind | undefined {
  return failureOf(cell, 'fisherlab')?.kind;
}

/** The targets this cell's row carries, judged on the row's own backend. */
export function rowTargets(cell: CellResult): Target[] {
  const { model, task, batch } = cell.request;
  if (!model) return [];
  const out: Target[] = [];
  const line = lineOf(cell);
  const failed = fisherlabFailure(cell);
  const what = `${cell.backend} ${model} ${task} at batch ${batch}`;
  const judge = (name: string, value: number | undefined, bound: number) => {
    if (failed) out.push({ name, value: Number.NaN, bound, met: false, note: `FisherLab failed: ${failed}` });
    else if (value !== undefined) out.push({ name, value, bound, met: value <= bound });
  };
  const atBatch = batch === (STEP_ONLY_MODELS[model as ModelName] ?? TARGETS.batch);
  const time = TARGETS.stepTime;
  if (
    atBatch &&
    (time.models as readonly string[]).includes(model) &&
    (time.tasks as readonly string[]).includes(task)
  ) {
    judge(`${what}: wall time ≤ ${time.bound.toFixed(1)}x PyTorch's`, line?.wall?.ratio, time.bound);
  }
  const memory = TARGETS.memory;
  if (atBatch) {
    judge(
      `${what}: runs, peak resident memory ≤ ${memory.bound.toFixed(1)}x PyTorch's`,
      line?.rssRatio,
      memory.bound,
    );
  }
  if (task === 'trace-mc') {
    judge(
      `${cell.backend} ${model} Tr(F) mc on ${cell.request.n} examples: wall time ≤ ${TARGETS.traceMcTime.bound.toFixed(1)}x PyTorch's per-example`,
      line?.wall?.ratio,
      TARGETS.traceMcTime.bound,
    );
  }
  return out;
}

/** The native tier as the FisherLab worker's hello reports it (engine BackendReport.native), if it does. */
function nativeTier(info: Record<string, unknown>): string {
  const native = info['native'] as { active?: boolean; library?: string; threads?: number } | undefined;
  if (!native?.active) return '';
  return ` + native tier, ${native.library?.split(' ').slice(0, 2).join(' ') ?? 'BLAS'} on ${native.threads} threads`;
}

const find = (lines: Line[], backend: string, model: string, task: string) =>
  lines.find((l) => l.backend === backend && l.model === model && l.task === task);

/** Ratios between lines of one side (penalty over plain, k=10 average), GFLOP/s fractions, targets. */
export function derive(lines: Line[], cells: CellResult[]): Derived[] {
  const backends = [...new Set(lines.map((l) => l.backend))];
  const models = [...new Set(lines.map((l) => l.model))].filter((m) => m !== '-');
  const perModel = backends.flatMap((backend) =>
    models.flatMap((model) => deriveForModel(lines, cells, backend, model)),
  );
  return [
    ...perModel,
    ...nativeOverWasm(lines, models),
    ...bestTiers(lines, models),
    ...vggPenaltyMemory(cells),
  ];
}

/** One backend and model: penalized over plain, the k=10 average, Tr(F) mc, forward GFLOP/s. */
function deriveForModel(lines: Line[], cells: CellResult[], backend: string, model: string): Derived[] {
  const out: Derived[] = [];
  const matmul = find(lines, backend, '-', 'matmul');
  const plain = find(lines, backend, model, 'sgd-step');
  const k1 = find(lines, backend, model, 'penalty-k1');
  const k10 = find(lines, backend, model, 'penalty-k10');
  const forward = find(lines, backend, model, 'forward');
  if (plain && k1) {
    const ours = k1.fisherlabMs / plain.fisherlabMs;
    const theirs = k1.pytorchMs && plain.pytorchMs ? k1.pytorchMs / plain.pytorchMs : undefined;
    out.push({
      text:
        `${backend} ${model}: penalized/plain step FisherLab ${ours.toFixed(2)}x` +
        (theirs ? `, PyTorch ${theirs.toFixed(2)}x (double backprop)` : ''),
      ...(theirs
        ? {
            target: {
              name: `${backend} ${model}: penalized/plain ≤ PyTorch's`,
              value: ours,
              bound: theirs,
              met: ours <= theirs,
            },
          }
        : {}),
    });
    if (!k10) {
      const derivedK10 = (k1.fisherlabMs + 9 * plain.fisherlabMs) / 10;
      const theirK10 =
        k1.pytorchMs && plain.pytorchMs ? (k1.pytorchMs + 9 * plain.pytorchMs) / 10 : undefined;
      out.push({
        text:
          `${backend} ${model}: penalty every 10 steps (derived, (k1 + 9 plain)/10): FisherLab ` +
          `${derivedK10.toFixed(0)} ms/step` +
          (theirK10
            ? `, PyTorch ${theirK10.toFixed(0)} ms/step, ratio ${(derivedK10 / theirK10).toFixed(2)}`
            : ''),
      });
    }
  }
  if (plain?.wall) {
    out.push({ text: `${backend} ${model}: plain step ${plain.wall.ratio.toFixed(2)}x PyTorch` });
    if (model === 'vgg11bn' && backend.startsWith('wasm')) {
      out.push({
        text: `${backend} vgg11bn: wasm tier alone ${plain.wall.ratio.toFixed(2)}x PyTorch`,
        target: {
          name: `${backend} vgg11bn: wasm tier plain step ≤ 3x PyTorch`,
          value: plain.wall.ratio,
          bound: 3,
          met: plain.wall.ratio <= 3,
        },
      });
    }
  }
  const mc = find(lines, backend, model, 'trace-mc');
  if (mc?.wall) {
    // Its target (≤ 0.5x) is the row's own (rowTargets).
    out.push({
      text: `${backend} ${model}: Tr(F) mc on ${mc.examples} examples ${mc.wall.ratio.toFixed(2)}x PyTorch per-example`,
    });
  }
  const batch = cells.find(
    (c) => c.backend === backend && c.request.model === model && c.request.task === 'sgd-step',
  )?.request.batch;
  if (mc?.examples && plain && batch) {
    // The fisher issue's bound: Tr(F) mc over n examples ≤ 3x a plain training pass over them.
    const pass = (plain.fisherlabMs * mc.examples) / batch;
    const ratio = mc.fisherlabMs / pass;
    out.push({
      text: `${backend} ${model}: Tr(F) mc on ${mc.examples} examples ${ratio.toFixed(2)}x a plain training pass over them (${mc.examples / batch} steps, ${pass.toFixed(0)} ms)`,
      target: {
        name: `${backend} ${model}: Tr(F) mc ≤ 3x a plain training pass over the same examples`,
        value: ratio,
        bound: 3,
        met: ratio <= 3,
      },
    });
  }
  if (forward?.fisherlabGflops && matmul?.fisherlabGflops) {
    out.push({
      text:
        `${backend} ${model}: forward ${forward.fisherlabGflops.toFixed(1)} GFLOP/s = ` +
        `${((100 * forward.fisherlabGflops) / matmul.fisherlabGflops).toFixed(0)}% of the backend's matmul ` +
        `(${matmul.fisherlabGflops.toFixed(1)} GFLOP/s)` +
        (forward.pytorchGflops && matmul.pytorchGflops
          ? `; PyTorch ${forward.pytorchGflops.toFixed(1)} GFLOP/s = ` +
            `${((100 * forward.pytorchGflops) / matmul.pytorchGflops).toFixed(0)}% of its matmul ` +
            `(${matmul.pytorchGflops.toFixed(1)} GFLOP/s)`
          : ''),
    });
  }
  return out;
}

/** What the native backend buys over wasm alone, per model (plain step, median wall time). */
function nativeOverWasm(lines: Line[], models: string[]): Derived[] {
  const out: Derived[] = [];
  for (const model of models) {
    const native = find(lines, 'native', model, 'sgd-step');
    const wasm = find(lines, 'wasm', model, 'sgd-step');
    if (!native || !wasm) continue;
    out.push({
      text:
        `${model}: native backend plain step ${native.fisherlabMs.toFixed(0)} ms vs wasm alone ${wasm.fisherlabMs.toFixed(0)} ms ` +
        `(${(wasm.fisherlabMs / native.fisherlabMs).toFixed(2)}x faster)`,
    });
  }
  return out;
}

/** The fastest backend measured per model and step (the step-time targets are the rows' own). */
function bestTiers(lines: Line[], models: string[]): Derived[] {
  const out: Derived[] = [];
  for (const model of models) {
    for (const task of ['sgd-step', 'penalty-k1']) {
      const measured = lines.filter((l) => l.model === model && l.task === task && l.wall);
      if (measured.length === 0) continue;
      const best = measured.reduce((a, b) => (b.wall!.ratio < a.wall!.ratio ? b : a));
      out.push({
        text: `${model}: best tier ${best.backend}, ${task === 'sgd-step' ? 'plain' : 'penalized'} step ${best.wall!.ratio.toFixed(2)}x PyTorch`,
      });
    }
  }
  return out;
}

/** VGG-11's penalized step against the 4 GB bound (tfjs's peak tensor memory, or the wasm heap). */
function vggPenaltyMemory(cells: CellResult[]): Derived[] {
  const out: Derived[] = [];
  for (const cell of cells) {
    if (cell.request.task !== 'penalty-k1' || cell.request.model !== 'vgg11bn') continue;
    if (fisherlabFailure(cell)) {
      out.push({
        text: `${cell.backend} vgg11bn penalized step at batch ${cell.request.batch} failed: ${failureOf(cell, 'fisherlab')?.message}`,
        target: {
          name: `${cell.backend} vgg11bn: penalized step peak memory < 4 GB at batch ${cell.request.batch} (it failed)`,
          value: Number.NaN,
          bound: 4,
          met: false,
        },
      });
      continue;
    }
    const heap = Math.max(0, ...cell.fisherlab.runs.map((r) => r.wasmHeapBytes ?? 0));
    const peak = cell.fisherlab.profile?.peakBytes;
    const bytes = peak ?? heap;
    if (!bytes) continue;
    out.push({
      text:
        `${cell.backend} vgg11bn penalized step at batch ${cell.request.batch}: ` +
        (peak ? `tfjs peak tensor memory ${(peak / 2 ** 30).toFixed(2)} GiB; ` : '') +
        (heap ? `wasm heap ${(heap / 2 ** 30).toFixed(2)} GiB` : ''),
      target: {
        name: `${cell.backend} vgg11bn: penalized step peak memory < 4 GB at batch ${cell.request.batch}`,
        value: Math.max(heap, peak ?? 0) / 1e9,
        bound: 4,
        met: Math.max(heap, peak ?? 0) < 4e9,
      },
    });
  }
  return out;
}

const fmt = (v: number | undefined, digits = 0) => (v === undefined ? '-' : v.toFixed(digits));

const gibOrDash = (bytes: number | undefined) => (bytes === undefined ? '-' : gib(bytes));

export function formatLine(line: Line): string {
  const what = `${line.backend.padEnd(7)} ${line.model.padEnd(9)} ${line.task.padEnd(15)}${
    line.examples ? ` n=${line.examples}`.padEnd(7) : ''.padEnd(7)
  }`;
  const ratio = line.wall
    ? `  FisherLab/PyTorch ${line.wall.ratio.toFixed(2)}x (rounds ${line.wall.roundMin.toFixed(2)}-${line.wall.roundMax.toFixed(2)}, CPU ${fmt(line.cpuRatio, 2)}x)`
    : '';
  const memory =
    line.fisherlabPeakRssBytes || line.pytorchPeakRssBytes
      ? `  peak RSS ${gibOrDash(line.fisherlabPeakRssBytes)} vs ${gibOrDash(line.pytorchPeakRssBytes)}` +
        (line.rssRatio ? ` (${line.rssRatio.toFixed(2)}x)` : '')
      : '';
  return `${what} FisherLab ${fmt(line.fisherlabMs).padStart(7)} ms  PyTorch ${fmt(line.pytorchMs).padStart(7)} ms${ratio}${memory}`;
}

/** What a failed side's worker had reached when it failed, for the table and the console. */
function failureState(failure: Failure | undefined): string {
  const state = failure?.state;
  if (!state) return '';
  const parts = [
    state.maxRssBytes ? `peak RSS ${gib(state.maxRssBytes)}` : '',
    state.wasmHeapBytes ? `wasm heap ${gib(state.wasmHeapBytes)}` : '',
  ].filter(Boolean);
  return parts.length ? ` at ${parts.join(', ')}` : '';
}

/** One console line for a cell whose FisherLab side failed (PyTorch's side still measured). */
export function formatFailure(cell: CellResult): string {
  const pytorchMs = cell.pytorch?.runs.length ? median(walls(cell.pytorch.runs)) : undefined;
  const theirRss = cell.pytorch ? peakRss(cell.pytorch.runs) : undefined;
  return (
    `${cell.backend.padEnd(7)} ${(cell.request.model ?? '-').padEnd(9)} ${cell.request.task.padEnd(15)}       ` +
    `FisherLab FAILED (${fisherlabFailure(cell) ?? 'error'}${failureState(failureOf(cell, 'fisherlab'))})  PyTorch ${fmt(pytorchMs)} ms` +
    (theirRss ? `, peak RSS ${gib(theirRss)}` : '') +
    `: ${failureOf(cell, 'fisherlab')?.message ?? cell.error}`
  );
}

function fisherlabTiers(m: Machine): string {
  return Object.entries(m.fisherlab)
    .map(
      ([b, info]) =>
        `${b}: ${info['backend']} backend (${info['threads']} thread${info['threads'] === 1 ? '' : 's'}${nativeTier(info)}), ` +
        `memory ceiling ${describeCeiling(m.memoryCeilings?.[b] ?? memoryCeiling(info))}`,
    )
    .join('; ');
}

/** The input a model's cells ran on: height x width x channels, classes. */
function inputOf(request: TaskRequest): string {
  if (!request.model) return '-';
  const side = request.side ?? 32;
  const usual = DATA_SHAPES[request.model as ModelName];
  const dataset = usual?.side === side && usual.classes === request.classes ? ` (${usual.dataset})` : '';
  return `${side}x${side}x${request.channels ?? 3}, ${request.classes} classes${dataset}`;
}

export function markdown(results: SuiteResults, derived: Derived[]): string {
  const m = results.machine;
  const mark = m.reference?.slow ? ` ${SLOW_REFERENCE_MARK}` : '';
  const out = [
    `# FisherLab vs PyTorch (${results.mode} run, ${m.date})`,
    '',
    `Machine: ${m.cpus}, ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node}; load average at start ` +
      `${m.loadAvgStart}, at end ${m.loadAvgEnd ?? '-'}.`,
    '',
    `Reference: ${m.reference ? describeReference(m.reference) : m.pytorch ? `PyTorch ${m.pytorch['version']} on ${m.pytorch['threads']} threads` : 'no PyTorch'}.`,
    '',
    `FisherLab: ${fisherlabTiers(m)}` + (m.malloc ? `; malloc (both sides): ${m.malloc}.` : '.'),
    '',
    ...(m.reference?.slow
      ? [
          `**${m.reference.slow}: measured with --allow-slow-reference; every ratio below flatters FisherLab.**`,
          '',
        ]
      : []),
    'Median wall ms per run (penalty-k10: per step, over runs of 10 steps), FisherLab and PyTorch alternating run by run in one process pair' +
      (m.timing
        ? `, each run after ${m.timing.settleMs} ms idle and repeating its task back to back for at least ${m.timing.minRunMs} ms (ms per repetition); `
        : '; ') +
      'ratio = FisherLab/PyTorch (per-round range in brackets); CPU = ratio of process CPU times. ' +
      "Peak RSS: the largest resident memory of each side's worker process, started fresh for each backend and model, " +
      "over that model's runs up to the end of the row (its earlier rows included). " +
      `Targets: issue 29's, at batch ${TARGETS.batch} (the demo CNN at its own batch, ${DEMO_BATCH}), judged on the row's own backend.`,
    '',
    '| backend | model | input | task | n | FisherLab ms | PyTorch ms | ratio (rounds) | CPU ratio | FisherLab peak RSS | PyTorch peak RSS | RSS ratio | runs | targets |',
    '|---|---|---|---|---|---:|---:|---|---:|---:|---:|---:|---:|---|',
  ];
  const targetsOf = (cell: CellResult) =>
    rowTargets(cell)
      .map((t) => `${t.met ? 'MET' : 'NOT MET'}: ${t.name.slice(t.name.indexOf(': ') + 2)}`)
      .join('; ') || '-';
  for (const cell of results.cells) {
    const line = lineOf(cell);
    const model = cell.request.model ?? '-';
    const n = cell.request.task.startsWith('trace-')
      ? cell.request.n
      : (cell.request.batch ?? cell.request.n);
    const pytorchRuns = cell.pytorch?.runs ?? [];
    if (line) {
      out.push(
        `| ${line.backend} | ${line.model} | ${inputOf(cell.request)} | ${line.task} | ${n ?? ''} | ` +
          `${fmt(line.fisherlabMs)} | ${fmt(line.pytorchMs)} | ` +
          `${line.wall ? `${line.wall.ratio.toFixed(2)} (${line.wall.roundMin.toFixed(2)}-${line.wall.roundMax.toFixed(2)})${mark}` : '-'} | ` +
          `${fmt(line.cpuRatio, 2)} | ${gibOrDash(line.fisherlabPeakRssBytes)} | ${gibOrDash(line.pytorchPeakRssBytes)} | ` +
          `${fmt(line.rssRatio, 2)} | ${cell.fisherlab.runs.length} | ${targetsOf(cell)} |`,
      );
      continue;
    }
    // FisherLab failed: the row keeps PyTorch's figures and says what stopped FisherLab.
    const kind = fisherlabFailure(cell) ?? 'error';
    out.push(
      `| ${cell.backend} | ${model} | ${inputOf(cell.request)} | ${cell.request.task} | ${n ?? ''} | ` +
        `FAILED: ${kind}${failureState(failureOf(cell, 'fisherlab'))} | ${pytorchRuns.length ? fmt(median(walls(pytorchRuns))) : '-'} | - | - | ` +
        `${gibOrDash(failureOf(cell, 'fisherlab')?.state?.maxRssBytes)} | ${gibOrDash(peakRss(pytorchRuns))} | - | 0 | ${targetsOf(cell)} |`,
    );
  }
  out.push('', '## Derived', '');
  const marked = (text: string) => (text.includes('PyTorch') ? `${text}${mark}` : text);
  for (const d of derived) out.push(`- ${marked(d.text)}`);
  out.push('', '## Targets', '');
  const targets = [
    ...results.cells.flatMap(rowTargets),
    ...derived.filter((x) => x.target).map((d) => d.target!),
  ];
  for (const t of targets) {
    out.push(
      marked(
        `- ${t.met ? 'MET' : 'NOT MET'}: ${t.name} (measured ${Number.isNaN(t.value) ? `nothing: ${t.note ?? 'it failed'}` : t.value.toFixed(2)}, bound ${t.bound.toFixed(2)})`,
      ),
    );
  }
  const failed = results.cells.flatMap((c) =>
    (['fisherlab', 'pytorch'] as const).flatMap((side) => {
      const failure = failureOf(c, side);
      return failure ? [{ cell: c, failure }] : [];
    }),
  );
  if (failed.length || results.skipped.length) out.push('', '## Not measured', '');
  for (const { cell: c, failure } of failed)
    out.push(
      `- ${c.backend} ${c.request.model ?? ''} ${c.request.task}: ${failure.side === 'pytorch' ? 'PyTorch' : 'FisherLab'} failed (${failure.kind}): ${failure.message}`,
    );
  for (const s of results.skipped) out.push(`- ${s.backend} ${s.model ?? ''} ${s.task}: ${s.reason}`);
  const profiled = results.cells.filter((c) => c.fisherlab.profile);
  if (profiled.length) out.push('', '## Largest tfjs kernel costs (one profiled run, FisherLab)', '');
  for (const c of profiled) {
    const p = c.fisherlab.profile!;
    out.push(
      `- ${c.backend} ${c.request.model} ${c.request.task}: ${p.totalKernelMs.toFixed(0)} ms in kernels, peak ` +
        `${(p.peakBytes / 2 ** 20).toFixed(0)} MiB; ` +
        p.kernels
          .slice(0, 6)
          .map((k) => `${k.kernel} ${k.ms.toFixed(0)} ms (${k.calls})`)
          .join(', '),
    );
  }
  return `${out.join('\n')}\n`;
}
