import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { referenceConfiguration, SLOW_REFERENCE_MARK } from './reference.js';
import {
  type CellResult,
  classifyFailure,
  derive,
  lineOf,
  markdown,
  memoryCeiling,
  rowTargets,
  type SuiteResults,
} from './report.js';
import { DATA_SHAPES, DEMO_BATCH, type TaskRequest, type TimeReply } from './tasks.js';

const runs = (ms: number[]): TimeReply[] => ms.map((wallMs) => ({ wallMs, cpuMs: wallMs, value: 0 }));

function cell(request: TaskRequest, ours: number[], theirs: number[], prepare = {}): CellResult {
  return {
    backend: 'wasm',
    request,
    fisherlab: { prepare, runs: runs(ours) },
    pytorch: { prepare, runs: runs(theirs) },
  };
}

describe('lineOf and derive', () => {
  it("judges each row's step time against PyTorch's on the row's own backend, and names the fastest", () => {
    const request = { task: 'sgd-step', model: 'simplecnn', classes: 10, batch: 128 } as const;
    const slow = { ...cell(request, [300], [100]), backend: 'cpu' as const };
    const fast = cell(request, [90], [100]);
    expect(rowTargets(slow)).toEqual([
      {
        name: "cpu simplecnn sgd-step at batch 128: wall time ≤ 1.0x PyTorch's",
        value: 3,
        bound: 1,
        met: false,
      },
    ]);
    expect(rowTargets(fast)[0]).toMatchObject({ value: 0.9, bound: 1, met: true });
    const derived = derive(
      [slow, fast].map(lineOf).filter((l) => l !== undefined),
      [slow, fast],
    );
    expect(derived.map((d) => d.text)).toContain('simplecnn: best tier wasm, plain step 0.90x PyTorch');
  });

  it('counts the native tier as a tier: the fastest on it, the wasm-alone target only on wasm', () => {
    const request = { task: 'sgd-step', model: 'vgg11bn', classes: 100, batch: 128 } as const;
    const wasm = cell(request, [5000], [1000]);
    const native = { ...cell(request, [1400], [1000]), backend: 'native' as const };
    const derived = derive(
      [wasm, native].map(lineOf).filter((l) => l !== undefined),
      [wasm, native],
    );
    expect(derived.map((d) => d.text)).toContain('vgg11bn: best tier native, plain step 1.40x PyTorch');
    expect(rowTargets(native)[0]).toMatchObject({ value: 1.4, bound: 1, met: false });
    const alone = derived.filter((d) => d.target?.name.includes('wasm tier plain step'));
    expect(alone.map((d) => d.target?.name)).toEqual(['wasm vgg11bn: wasm tier plain step ≤ 3x PyTorch']);
    expect(derived.find((d) => d.text.includes('native backend plain step'))?.text).toContain(
      '(3.57x faster)',
    );
  });

  const simple = { model: 'simplecnn', classes: 10, batch: 128 } as const;
  const cells = [
    cell({ task: 'matmul', n: 1000 }, [100, 100, 100], [20, 20, 20]),
    cell({ task: 'sgd-step', ...simple }, [100, 110, 90], [50, 60, 40]),
    cell({ task: 'penalty-k1', ...simple }, [400, 400, 400], [250, 250, 250]),
    cell({ task: 'forward', ...simple }, [10, 10, 10], [5, 5, 5], { flopsPerExample: 1e6 }),
  ];
  const lines = cells.map(lineOf).filter((l) => l !== undefined);

  it('gives median wall times and their FisherLab/PyTorch ratio per line', () => {
    const plain = lines.find((l) => l.task === 'sgd-step')!;
    expect(plain.fisherlabMs).toBe(100);
    expect(plain.pytorchMs).toBe(50);
    expect(plain.wall?.ratio).toBe(2);
  });

  it('computes GFLOP/s: 2n^3 for the matmul, flops x batch for the forward pass', () => {
    const matmul = lines.find((l) => l.task === 'matmul')!;
    expect(matmul.fisherlabGflops).toBeCloseTo((2 * 1000 ** 3) / 0.1 / 1e9, 9);
    expect(lines.find((l) => l.task === 'forward')!.pytorchGflops).toBeCloseTo((128 * 1e6) / 0.005 / 1e9, 9);
  });

  it('compares Tr(F) mc with a plain training pass over the same examples (n / batch steps)', () => {
    const mcCells = [
      cell({ task: 'sgd-step', ...simple }, [50, 50, 50], [60, 60, 60]),
      cell({ task: 'trace-mc', ...simple, n: 1024 }, [1000], [8000]),
    ];
    const derived = derive(
      mcCells.map(lineOf).filter((l) => l !== undefined),
      mcCells,
    );
    const target = derived.find((d) => d.target?.name.includes('plain training pass'))?.target;
    expect(target).toMatchObject({ value: 2.5, bound: 3, met: true });
  });

  it('compares penalized/plain ratios of the two sides and derives the k=10 average', () => {
    const derived = derive(lines, cells);
    const penalty = derived.find((d) => d.target?.name.includes('penalized/plain'));
    // FisherLab 400/100 = 4x against PyTorch 250/50 = 5x: met
    expect(penalty?.target).toMatchObject({ value: 4, bound: 5, met: true });
    const k10 = derived.find((d) => d.text.includes('every 10 steps'));
    // (400 + 9·100)/10 = 130 ms against (250 + 9·50)/10 = 70 ms
    expect(k10?.text).toContain('FisherLab 130 ms/step, PyTorch 70 ms/step, ratio 1.86');
    expect(rowTargets(cells[1]!)[0]).toMatchObject({ value: 2, bound: 1, met: false });
    expect(rowTargets(cells[2]!)[0]).toMatchObject({ value: 1.6, bound: 1, met: false });
  });

  it('counts a failed penalized VGG-11 step (a wasm heap exhaustion) as a missed memory target', () => {
    const failed: CellResult = {
      backend: 'wasm',
      request: { task: 'penalty-k1', model: 'vgg11bn', classes: 100, batch: 128 },
      fisherlab: { prepare: {}, runs: [] },
      error: 'fisherlab wasm: memory access out of bounds',
    };
    const memory = derive([], [failed]).find((d) => d.target?.name.includes('peak memory'));
    expect(memory?.target?.met).toBe(false);
    expect(memory?.text).toContain('memory access out of bounds');
  });
});

describe('markdown: the PyTorch reference next to the load average', () => {
  const recorded = (name: string) =>
    JSON.parse(
      readFileSync(
        join(dirname(fileURLToPath(import.meta.url)), 'fixtures', `torch-hello-${name}.json`),
        'utf8',
      ),
    ) as Record<string, unknown>;
  const simple = { model: 'simplecnn', classes: 10, batch: 128 } as const;
  const cells = [
    cell({ task: 'sgd-step', ...simple }, [47, 50, 45], [196, 190, 200]),
    cell({ task: 'penalty-k1', ...simple }, [127, 130, 125], [580, 600, 590]),
  ];
  const lines = cells.map(lineOf).filter((l) => l !== undefined);
  const results = (hello: Record<string, unknown>): SuiteResults => ({
    mode: 'quick',
    machine: {
      date: '2026-12-03T02:00:00.000Z',
      cpus: 'AMD EPYC',
      cores: 2,
      memoryGiB: 24,
      node: 'v20.20.2',
      loadAvgStart: '0.72 1.41 1.66 1/109 28825',
      loadAvgEnd: '1.64 1.82 1.81 2/113 29141',
      fisherlab: {},
      pytorch: hello,
      reference: referenceConfiguration(hello),
    },
    cells,
    skipped: [],
  });

  it('against the reference BLAS (--allow-slow-reference): says so above the table and on every ratio', () => {
    const md = markdown(results(recorded('reference-blas')), derive(lines, cells));
    expect(md).toContain(
      'load average at start 0.72 1.41 1.66 1/109 28825, at end 1.64 1.82 1.81 2/113 29141.\n\nReference: PyTorch 1.13.0a0 on 2 threads; BLAS: the reference BLAS',
    );
    expect(md).toContain('**PyTorch runs on the reference BLAS');
    const withRatios = md
      .split('\n')
      .filter((l) => /^\| wasm \|/.test(l) || (/^- /.test(l) && l.includes('PyTorch')));
    // table rows; derived lines (penalized/plain, k=10, plain step, fastest plain and penalized);
    // targets (each row's step time, penalized/plain)
    expect(withRatios.length).toBe(2 + 5 + 3);
    for (const line of withRatios) expect(line).toContain(SLOW_REFERENCE_MARK);
  });

  it('against OpenBLAS: the configuration recorded, no mark', () => {
    const md = markdown(results(recorded('openblas-system')), derive(lines, cells));
    expect(md).toContain(
      'Reference: PyTorch 1.13.0a0 on 2 threads; BLAS: OpenBLAS, /usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3 (',
    );
    expect(md).not.toContain(SLOW_REFERENCE_MARK);
  });
});

describe('classifyFailure: what stopped a side, from its message', () => {
  it('recognises the heap exhausted in each way it surfaces', () => {
    for (const message of [
      // the fisher package's explanation of a failed exact penalty (objective.ts explainOutOfMemory)
      'fisherlab native: penalizedObjective: the wasm backend most likely ran out of memory at batch size 128 while building the exact second-order (double backprop) graph (original error: Aborted(OOM)). Use a smaller batch',
      'fisherlab wasm: memory access out of bounds',
      'fisherlab native worker exited (code 7, signal null); its last words: Aborted(OOM)',
      'fisherlab native worker exited (code 1, signal null); its last words: RangeError: Array buffer allocation failed',
      'pytorch: RuntimeError: [enforce fail at alloc_cpu.cpp:83] DefaultCPUAllocator: not enough memory: you tried to allocate 1073741824 bytes.',
    ]) {
      expect(classifyFailure(message), message).toBe('out of memory');
    }
  });

  it('tells a timeout, a worker that ended for another reason, and any other error apart', () => {
    expect(classifyFailure("fisherlab wasm worker killed: 'time' took longer than 300 s")).toBe('timeout');
    expect(classifyFailure('fisherlab native worker exited (code null, signal SIGSEGV)')).toBe(
      'worker ended',
    );
    expect(classifyFailure("pytorch: ValueError: model 'x': expected one of simplecnn")).toBe('error');
  });
});

describe('memoryCeiling: the backend in effect and how much memory its tensors may take', () => {
  const ram = 24 * 2 ** 30;

  it("takes the engine's own memoryCeiling when the worker's hello carries one", () => {
    const hello = {
      backend: 'native',
      tfBackend: 'native',
      totalMemBytes: ram,
      memoryCeiling: { bytes: 20 * 2 ** 30, reason: 'limited by the cgroup' },
    };
    expect(memoryCeiling(hello)).toEqual({
      bytes: 20 * 2 ** 30,
      reason: 'limited by the cgroup',
      from: 'engine',
    });
  });

  it('derives 4 GiB for wasm (with or without the native tier) and RAM for the cpu backend', () => {
    expect(memoryCeiling({ backend: 'wasm', tfBackend: 'wasm', totalMemBytes: ram })).toMatchObject({
      bytes: 4 * 2 ** 30,
      from: 'derived',
    });
    // A machine with less RAM than the heap could reach: RAM is the ceiling.
    expect(memoryCeiling({ backend: 'wasm', totalMemBytes: 2 ** 31 }).bytes).toBe(2 ** 31);
    expect(memoryCeiling({ backend: 'cpu', tfBackend: 'cpu', totalMemBytes: ram })).toMatchObject({
      bytes: ram,
      reason: 'tensors live in process memory, bounded by RAM',
    });
  });

  it('ignores a memoryCeiling field of another shape and derives instead', () => {
    expect(memoryCeiling({ backend: 'wasm', memoryCeiling: 'big', totalMemBytes: ram }).from).toBe('derived');
  });
});

describe("the large models' rows: peak resident memory and issue 20's targets", () => {
  const GiB = 2 ** 30;
  const withRss = (ms: number[], rss: number[]): TimeReply[] =>
    ms.map((wallMs, i) => ({ wallMs, cpuMs: wallMs, value: 0, maxRssBytes: rss[i]! }));
  const penalized = (model: 'resnet18' | 'wrn16-4' | 'democnn', batch = 128): CellResult => ({
    backend: 'native',
    request: { task: 'penalty-k1', model, ...DATA_SHAPES[model], batch },
    fisherlab: { prepare: {}, runs: withRss([9000, 9500, 9200], [3.1 * GiB, 3.4 * GiB, 3.3 * GiB]) },
    pytorch: { prepare: {}, runs: withRss([10_000, 10_000, 10_000], [2 * GiB, 2 * GiB, 2 * GiB]) },
  });

  it('peak RSS is the largest of the runs on each side, and the ratio is FisherLab over PyTorch', () => {
    const line = lineOf(penalized('wrn16-4'))!;
    expect(line.fisherlabPeakRssBytes).toBe(3.4 * GiB);
    expect(line.pytorchPeakRssBytes).toBe(2 * GiB);
    expect(line.rssRatio).toBeCloseTo(1.7, 12);
  });

  it("WRN-16-4's penalized step: the time target and a memory target (1.7x > 1.5x: missed)", () => {
    const targets = rowTargets(penalized('wrn16-4'));
    expect(targets.map((t) => t.name)).toEqual([
      "native wrn16-4 penalty-k1 at batch 128: wall time ≤ 1.0x PyTorch's",
      "native wrn16-4 penalty-k1 at batch 128: runs, peak resident memory ≤ 1.5x PyTorch's",
    ]);
    expect(targets.slice(1)).toEqual([
      {
        name: "native wrn16-4 penalty-k1 at batch 128: runs, peak resident memory ≤ 1.5x PyTorch's",
        value: expect.closeTo(1.7, 12),
        bound: 1.5,
        met: false,
      },
    ]);
  });

  it("ResNet-18's penalized step carries both the time target (0.92x: met) and the memory target", () => {
    const targets = rowTargets(penalized('resnet18'));
    expect(targets.map((t) => [t.bound, t.met])).toEqual([
      [1, true],
      [1.5, false],
    ]);
    expect(targets[0]!.value).toBeCloseTo(0.92, 12);
  });

  it('targets are at batch 128 only (the demo CNN at the demo batch): another batch carries none', () => {
    expect(rowTargets(penalized('resnet18', 64))).toEqual([]);
    expect(rowTargets(penalized('democnn', 128))).toEqual([]);
    expect(rowTargets(penalized('democnn', DEMO_BATCH)).map((t) => t.bound)).toEqual([1, 1.5]);
  });

  it('a heap error misses both targets, with the measured reason', () => {
    const failed: CellResult = {
      ...penalized('resnet18'),
      fisherlab: { prepare: {}, runs: [] },
      error:
        'fisherlab native: penalizedObjective: the wasm backend most likely ran out of memory at batch size 128',
      failures: [
        {
          side: 'fisherlab',
          kind: 'out of memory',
          message:
            'fisherlab native: penalizedObjective: the wasm backend most likely ran out of memory at batch size 128',
          state: { wasmHeapBytes: 4 * GiB - 65536, maxRssBytes: 4.6 * GiB },
        },
      ],
    };
    expect(lineOf(failed)).toBeUndefined();
    for (const target of rowTargets(failed)) {
      expect(target).toMatchObject({ met: false, note: 'FisherLab failed: out of memory' });
      expect(target.value).toBeNaN();
    }
    const results: SuiteResults = {
      mode: 'quick',
      machine: {
        date: '2026-12-03T07:00:00.000Z',
        cpus: 'AMD EPYC',
        cores: 2,
        memoryGiB: 24,
        node: 'v20.20.2',
        loadAvgStart: '1.00 1.00 1.00 1/100 1',
        fisherlab: { native: { backend: 'wasm', tfBackend: 'wasm', threads: 1, totalMemBytes: 24 * GiB } },
      },
      cells: [failed],
      skipped: [],
    };
    const md = markdown(results, derive([], [failed]));
    expect(md).toContain(
      'FisherLab: native: wasm backend (1 thread), memory ceiling 4.00 GiB (tensors live in the wasm32 heap, which cannot grow past 4 GiB; derived from the backend)',
    );
    expect(md).toContain(
      "| native | resnet18 | 32x32x3, 100 classes (CIFAR-100) | penalty-k1 | 128 | FAILED: out of memory at peak RSS 4.60 GiB, wasm heap 4.00 GiB | 10000 | - | - | 4.60 GiB | 2.00 GiB | - | 0 | NOT MET: wall time ≤ 1.0x PyTorch's; NOT MET: runs, peak resident memory ≤ 1.5x PyTorch's |",
    );
    expect(md).toContain(
      "- NOT MET: native resnet18 penalty-k1 at batch 128: runs, peak resident memory ≤ 1.5x PyTorch's (measured nothing: FisherLab failed: out of memory, bound 1.50)",
    );
    expect(md).toContain(
      '- native resnet18 penalty-k1: FisherLab failed (out of memory): fisherlab native: penalizedObjective',
    );
  });

  it("both sides failing: the row is FisherLab's failure, and both are listed with their kinds", () => {
    const both: CellResult = {
      ...penalized('wrn16-4'),
      fisherlab: { prepare: {}, runs: withRss([9000], [3 * GiB]) },
      pytorch: { prepare: {}, runs: [] },
      error: 'pytorch: RuntimeError: DefaultCPUAllocator: not enough memory',
      failures: [
        {
          side: 'pytorch',
          kind: 'out of memory',
          message: 'pytorch: RuntimeError: DefaultCPUAllocator: not enough memory',
        },
        {
          side: 'fisherlab',
          kind: 'timeout',
          message: "fisherlab native worker killed: 'time' took longer than 300 s",
        },
      ],
    };
    expect(lineOf(both)).toBeUndefined();
    expect(rowTargets(both)[0]).toMatchObject({ met: false, note: 'FisherLab failed: timeout' });
    const md = markdown(
      {
        mode: 'quick',
        machine: {
          date: '-',
          cpus: '-',
          cores: 2,
          memoryGiB: 24,
          node: '-',
          loadAvgStart: '-',
          fisherlab: {},
        },
        cells: [both],
        skipped: [],
      },
      [],
    );
    expect(md).toContain(
      '| native | wrn16-4 | 64x64x3, 200 classes (TinyImageNet) | penalty-k1 | 128 | FAILED: timeout | - |',
    );
    expect(md).toContain(
      '- native wrn16-4 penalty-k1: FisherLab failed (timeout): fisherlab native worker killed',
    );
    expect(md).toContain(
      '- native wrn16-4 penalty-k1: PyTorch failed (out of memory): pytorch: RuntimeError',
    );
  });

  it("Tr(F) 'mc' is held to half PyTorch's time", () => {
    const mc = cell({ task: 'trace-mc', model: 'vgg11bn', classes: 100, batch: 128, n: 256 }, [600], [1000]);
    expect(rowTargets(mc)).toEqual([
      {
        name: "wasm vgg11bn Tr(F) mc on 256 examples: wall time ≤ 0.5x PyTorch's per-example",
        value: 0.6,
        bound: 0.5,
        met: false,
      },
    ]);
  });
});
