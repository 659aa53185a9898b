import type { BackendName, SkippedCell } from './plan.js';
import { describeReference, type ReferenceConfiguration, SLOW_REFERENCE_MARK } from './reference.js';
import { median, pairedRatio, type RatioSummary } from './stats.js';
import type { ProfileReply, TaskRequest, TimeReply } from './tasks.js';

export interface CellResult {
  backend: BackendName;
  request: TaskRequest;
  fisherlab: { prepare: Record<string, unknown>; runs: TimeReply[]; profile?: ProfileReply };
  pytorch?: { prepare: Record<string, unknown>; runs: TimeReply[] };
  error?: string;
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
  fisherlab: Record<string, Record<string, unknown>>;
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
}

const walls = (runs: TimeReply[]) => runs.map((r) => r.wallMs);
const cpus = (runs: TimeReply[]) => runs.map((r) => r.cpuMs);

export function lineOf(cell: CellResult): Line | undefined {
  if (cell.error || cell.fisherlab.runs.length === 0) return undefined;
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
  if (cell.pytorch && cell.pytorch.runs.length === cell.fisherlab.runs.length) {
    line.pytorchMs = median(walls(cell.pytorch.runs)) / perRun;
    line.wall = pairedRatio(walls(cell.fisherlab.runs), walls(cell.pytorch.runs));
    line.cpuRatio = median(cpus(cell.fisherlab.runs)) / median(cpus(cell.pytorch.runs));
    if (flops) line.pytorchGflops = flops / line.pytorchMs / 1e6;
  }
  return line;
}

export interface Derived {
  text: string;
  /** For targets: measured value and the bound, or undefined where not measured. */
  target?: { name: string; value: number; bound: number; met: boolean };
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
  const out: Derived[] = [];
  const backends = [...new Set(lines.map((l) => l.backend))];
  for (const backend of backends) {
    const matmul = find(lines, backend, '-', 'matmul');
    for (const model of ['simplecnn', 'vgg11bn']) {
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
        out.push({
          text: `${backend} ${model}: Tr(F) mc on ${mc.examples} examples ${mc.wall.ratio.toFixed(2)}x PyTorch per-example`,
          target: {
            name: `${backend} ${model}: Tr(F) mc ≤ 1.5x PyTorch`,
            value: mc.wall.ratio,
            bound: 1.5,
            met: mc.wall.ratio <= 1.5,
          },
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
    }
  }
  // What the native tier buys over wasm alone, per model (plain step, median wall and CPU time).
  for (const model of ['simplecnn', 'vgg11bn']) {
    const native = find(lines, 'native', model, 'sgd-step');
    const wasm = find(lines, 'wasm', model, 'sgd-step');
    if (!native || !wasm) continue;
    out.push({
      text:
        `${model}: native tier plain step ${native.fisherlabMs.toFixed(0)} ms vs wasm alone ${wasm.fisherlabMs.toFixed(0)} ms ` +
        `(${(wasm.fisherlabMs / native.fisherlabMs).toFixed(2)}x faster)`,
    });
  }
  // The plain-step targets hold for the best tier available: the fastest backend measured.
  for (const [model, bound] of [
    ['simplecnn', 1.0],
    ['vgg11bn', 1.5],
  ] as const) {
    const plain = lines.filter((l) => l.model === model && l.task === 'sgd-step' && l.wall);
    if (plain.length === 0) continue;
    const best = plain.reduce((a, b) => (b.wall!.ratio < a.wall!.ratio ? b : a));
    out.push({
      text: `${model}: best tier ${best.backend}, plain step ${best.wall!.ratio.toFixed(2)}x PyTorch`,
      target: {
        name: `${model}: plain step on the best tier (${best.backend}) ≤ ${bound}x PyTorch`,
        value: best.wall!.ratio,
        bound,
        met: best.wall!.ratio <= bound,
      },
    });
  }
  for (const cell of cells) {
    if (cell.request.task !== 'penalty-k1' || cell.request.model !== 'vgg11bn') continue;
    if (cell.error) {
      out.push({
        text: `${cell.backend} vgg11bn penalized step at batch ${cell.request.batch} failed: ${cell.error}`,
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

export function formatLine(line: Line): string {
  const what = `${line.backend.padEnd(7)} ${line.model.padEnd(9)} ${line.task.padEnd(15)}${
    line.examples ? ` n=${line.examples}`.padEnd(7) : ''.padEnd(7)
  }`;
  const ratio = line.wall
    ? `  FisherLab/PyTorch ${line.wall.ratio.toFixed(2)}x (rounds ${line.wall.roundMin.toFixed(2)}-${line.wall.roundMax.toFixed(2)}, CPU ${fmt(line.cpuRatio, 2)}x)`
    : '';
  return `${what} FisherLab ${fmt(line.fisherlabMs).padStart(7)} ms  PyTorch ${fmt(line.pytorchMs).padStart(7)} ms${ratio}`;
}

function fisherlabTiers(m: Machine): string {
  return Object.entries(m.fisherlab)
    .map(
      ([b, info]) => `${b} (${info['threads']} thread${info['threads'] === 1 ? '' : 's'}${nativeTier(info)})`,
    )
    .join(', ');
}

export function markdown(results: SuiteResults, lines: Line[], derived: Derived[]): string {
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
    'Median wall ms per run (penalty-k10: per step, over runs of 10 steps), FisherLab and PyTorch alternating run by run in one process pair; ' +
      'ratio = FisherLab/PyTorch (per-round range in brackets); CPU = ratio of process CPU times.',
    '',
    '| backend | model | task | n | FisherLab ms | PyTorch ms | ratio (rounds) | CPU ratio | runs |',
    '|---|---|---|---|---:|---:|---|---:|---:|',
  ];
  for (const line of lines) {
    const cell = results.cells.find(
      (c) =>
        c.backend === line.backend && (c.request.model ?? '-') === line.model && c.request.task === line.task,
    );
    out.push(
      `| ${line.backend} | ${line.model} | ${line.task} | ${line.examples ?? cell?.request.batch ?? cell?.request.n ?? ''} | ` +
        `${fmt(line.fisherlabMs)} | ${fmt(line.pytorchMs)} | ` +
        `${line.wall ? `${line.wall.ratio.toFixed(2)} (${line.wall.roundMin.toFixed(2)}-${line.wall.roundMax.toFixed(2)})${mark}` : '-'} | ` +
        `${fmt(line.cpuRatio, 2)} | ${cell?.fisherlab.runs.length ?? 0} |`,
    );
  }
  out.push('', '## Derived', '');
  const marked = (text: string) => (text.includes('PyTorch') ? `${text}${mark}` : text);
  for (const d of derived) out.push(`- ${marked(d.text)}`);
  out.push('', '## Targets', '');
  for (const d of derived.filter((x) => x.target)) {
    const t = d.target!;
    out.push(
      marked(
        `- ${t.met ? 'MET' : 'NOT MET'}: ${t.name} (measured ${Number.isNaN(t.value) ? 'nothing: it failed' : t.value.toFixed(2)}, bound ${t.bound.toFixed(2)})`,
      ),
    );
  }
  const errors = results.cells.filter((c) => c.error);
  if (errors.length || results.skipped.length) out.push('', '## Not measured', '');
  for (const c of errors)
    out.push(`- ${c.backend} ${c.request.model ?? ''} ${c.request.task}: failed: ${c.error}`);
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
