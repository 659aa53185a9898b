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
import type { TaskRequest, TimeReply } from './tasks.js';

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
      { name: "cpu simplecnn sgd-step at batch 128: wall time ≤ 1.0x PyTorch's", value: 3, bound: 1, met: false },
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
    expect(derived.find((d) => d.text.includes('native tier plain step'))?.text).toContain('(3.57x faster)');
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
