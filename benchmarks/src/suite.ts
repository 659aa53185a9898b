import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BACKENDS, type BackendName, buildPlan, type Cell, groupCells } from './plan.js';
import {
  describeReference,
  type ReferenceConfiguration,
  referenceConfiguration,
  refusal,
  SLOW_REFERENCE_MARK,
} from './reference.js';
import {
  type CellResult,
  classifyFailure,
  derive,
  type Failure,
  formatFailure,
  formatLine,
  type Line,
  lineOf,
  markdown,
  memoryCeiling,
  type SuiteResults,
} from './report.js';
import { roundOrder } from './stats.js';
import {
  MODELS,
  type ModelName,
  type PrepareReply,
  type ProfileReply,
  TASKS,
  type TaskName,
  type TimeReply,
} from './tasks.js';
import { WorkerClient, WorkerError } from './worker-client.js';

/**
 * `pnpm bench` (from the repository root or benchmarks/): FisherLab against PyTorch on this machine.
 *   --full                 more repetitions, every task on every backend, Tr(F) on 1,024 examples for
 *                          VGG-11 too, k=10 measured, VGG profiled (an hour or more on two cores)
 *   --backends native,wasm any of auto (whatever initBackend picks), native (the native backend),
 *                          wasm-native (wasm + the native kernels on its heap), wasm, wasm-2t (threaded
 *                          wasm, 2 threads), cpu (default: all but auto)
 *   --models simplecnn,vgg11bn,resnet18,wrn16-4 (default: all)   --tasks sgd-step,trace-mc,...
 *   --reps N   --batch 128   --trace-n N
 *   --name NAME            results file names (default: quick or full)
 *   --default-malloc       leave glibc malloc as it is (default: STEADY_MALLOC for both workers)
 *   --cell-timeout S       stop a FisherLab request (preparing, one run) after S seconds, reported as failed (default 300)
 *   --settle-ms MS         idle time before each timed run, so the other side's thread pools are asleep (default 300)
 *   --min-run-ms MS        a timed run repeats its task back to back until this long has passed (default 250)
 *   --no-torch             FisherLab only      --torch-threads N (default 2, as the issue asks)      --out DIR (default benchmarks/results)
 *   --check-reference      only report the PyTorch reference's BLAS, oneDNN and matmul rate: exit 0 when it is
 *                          fit to compare against, 2 when it is not (or missing)
 *   --allow-slow-reference measure against a reference on the slow reference BLAS anyway (refused otherwise,
 *                          exit 2); every ratio line then says so
 * PyTorch runs from Debian's python3-torch (FISHERLAB_PYTHON overrides the interpreter); set it up with
 * scripts/bench-setup.sh (benchmarks/README.md).
 */

/** A FisherLab request (prepare, one timed run, profile) that takes longer is stopped and reported as failed. */
const CELL_TIMEOUT_S = 5 * 60;
/**
 * Idle time before each timed run. The side that ran last leaves its thread pools spinning: OpenBLAS's
 * pthreads busy-wait about 2^28 cycles (~0.1 s here) before they sleep, OpenMP's a little. Timed
 * straight after, the other side shares the two cores with them: the demo CNN's 14 ms step measured
 * 126 ms (rounds 11 to 150 ms) right after PyTorch's 11 ms one. Both sides get the same pause.
 */
const SETTLE_MS = 300;
/**
 * A timed run repeats its task back to back until this long has passed (both sides), and reports
 * the time per repetition: a step timed alone after the pause above starts with cold caches and
 * sleeping threads, which a training loop never has (the demo CNN's plain step: 15 ms timed alone,
 * 6.7 ms per step in a loop). Steps longer than this run once.
 */
const MIN_RUN_MS = 250;
const here = dirname(fileURLToPath(import.meta.url));

function parseArgs(argv: string[]) {
  const args = argv.filter((a) => a !== '--');
  const value = (flag: string) => {
    const at = args.indexOf(flag);
    return at >= 0 ? args[at + 1] : undefined;
  };
  const list = <T extends string>(flag: string, allowed: readonly T[], fallback: T[]): T[] => {
    const raw = value(flag);
    if (raw === undefined) return fallback;
    const items = raw.split(',').filter(Boolean);
    for (const item of items) {
      if (!(allowed as readonly string[]).includes(item)) {
        throw new Error(
          `${flag}: '${item}' is not one of ${allowed.join(', ')}; pass a comma-separated subset`,
        );
      }
    }
    return items as T[];
  };
  const full = args.includes('--full');
  const number = (flag: string) => {
    const raw = value(flag);
    if (raw === undefined) return undefined;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1)
      throw new Error(`${flag}: expected a positive integer, found '${raw}'`);
    return n;
  };
  const backendNames = Object.keys(BACKENDS) as BackendName[];
  return {
    full,
    backends: list('--backends', backendNames, ['native', 'wasm-native', 'wasm', 'wasm-2t', 'cpu']),
    models: list<ModelName>('--models', MODELS, [...MODELS]),
    tasks: value('--tasks') === undefined ? undefined : list<TaskName>('--tasks', TASKS, []),
    reps: number('--reps'),
    batch: number('--batch') ?? 128,
    traceN: number('--trace-n'),
    torch: !args.includes('--no-torch'),
    steadyMalloc: !args.includes('--default-malloc'),
    torchThreads: number('--torch-threads') ?? 2,
    cellTimeoutMs: (number('--cell-timeout') ?? CELL_TIMEOUT_S) * 1000,
    settleMs: value('--settle-ms') === '0' ? 0 : (number('--settle-ms') ?? SETTLE_MS),
    minRunMs: value('--min-run-ms') === '0' ? 0 : (number('--min-run-ms') ?? MIN_RUN_MS),
    out: value('--out') ?? join(here, '..', 'results'),
    name: value('--name'),
    checkReference: args.includes('--check-reference'),
    allowSlowReference: args.includes('--allow-slow-reference'),
  };
}

/**
 * glibc malloc settings for both workers: large blocks come from the heap and freed memory stays in
 * the process. With glibc's defaults every tensor over 128 KiB (adaptively up to 32 MiB) is a fresh
 * mmap, faulted in page by page and unmapped when freed: PyTorch's SimpleCNN step measured 38-160 ms
 * from run to run that way, and 38-53 ms with these settings (its penalized step 290-510 ms vs
 * 125-184 ms). FisherLab's tensors live on the wasm heap, so its side barely changes; the settings
 * are the same for both, so no side is measured with its allocator thrashing.
 */
export const STEADY_MALLOC: Record<string, string> = {
  MALLOC_MMAP_THRESHOLD_: String(2 ** 31 - 1),
  MALLOC_TRIM_THRESHOLD_: String(2 ** 31 - 1),
};

const loadAvg = () =>
  existsSync('/proc/loadavg') ? readFileSync('/proc/loadavg', 'utf8').trim() : 'unknown';

function pythonCommand(): string {
  return process.env['FISHERLAB_PYTHON'] ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
}

/**
 * Debian's OpenBLAS built on OpenMP, when installed (libopenblas0-openmp, scripts/bench-setup.sh):
 * PyTorch's own kernels run on OpenMP, so its matmuls then share one pool of threads with them. The
 * pthreads build runs a second pool beside it, and in a loop of steps both pools spin on the same
 * cores: the demo CNN's PyTorch step took 13-16 ms per step in a loop that way, 5.6 ms with the
 * OpenMP build (7 ms timed alone either way), with the same 1024³ matmul rate.
 */
function openmpOpenblas(): string | undefined {
  const dir = '/usr/lib/x86_64-linux-gnu/openblas-openmp';
  return existsSync(join(dir, 'libblas.so.3')) ? dir : undefined;
}

/** A PyTorch worker process (reference/torch_bench.py --serve). */
function spawnTorch(threads: number, extraEnv: Record<string, string>): WorkerClient {
  // FISHERLAB_TORCH_LIBRARY_PATH: a folder with an optimized libblas.so.3 (OpenBLAS) for the
  // reference only; by default OpenBLAS's OpenMP build where it is installed (above).
  // OpenBLAS sizes its pool itself (as many threads as cores), not through torch.set_num_threads:
  // it gets the same count.
  const libraryPath = process.env['FISHERLAB_TORCH_LIBRARY_PATH'] ?? openmpOpenblas();
  const env = {
    ...process.env,
    ...extraEnv,
    OPENBLAS_NUM_THREADS: process.env['OPENBLAS_NUM_THREADS'] ?? String(threads),
    ...(libraryPath
      ? { LD_LIBRARY_PATH: [libraryPath, process.env['LD_LIBRARY_PATH']].filter(Boolean).join(':') }
      : {}),
  };
  return new WorkerClient(
    'pytorch',
    pythonCommand(),
    [join(here, '..', 'reference', 'torch_bench.py'), '--serve', '--threads', String(threads)],
    env,
  );
}

/** A PyTorch worker and its hello (its configuration), or undefined when it cannot start. */
async function startTorch(
  threads: number,
  extraEnv: Record<string, string>,
): Promise<{ worker: WorkerClient; hello: Record<string, unknown> } | undefined> {
  const worker = spawnTorch(threads, extraEnv);
  try {
    const hello = await worker.request<Record<string, unknown>>('hello');
    return { worker, hello };
  } catch (error) {
    console.error(
      `PyTorch reference unavailable (${(error as Error).message}). ` +
        'Set it up with: scripts/bench-setup.sh (python3-torch and OpenBLAS)',
    );
    await worker.close();
    return undefined;
  }
}

function startFisherlab(backend: BackendName, extraEnv: Record<string, string>): WorkerClient {
  return new WorkerClient(
    `fisherlab ${backend}`,
    process.execPath,
    ['--import', 'tsx', '--conditions=source', join(here, 'fisherlab-worker.ts')],
    { ...process.env, ...extraEnv, ...BACKENDS[backend] },
  );
}

/**
 * Prepares the task on both sides, then times it `reps` times, the two sides alternating run by run,
 * each run after `settleMs` of idle time and lasting at least `minRunMs` (the task back to back).
 * When one side fails (FisherLab's wasm heap exhausted, a worker ended or timed out), the other side
 * still runs its repetitions, so the row shows what it measured beside the reason for the failure.
 */
async function measure(
  cell: Cell,
  fisherlab: WorkerClient,
  torch: WorkerClient | undefined,
  timeoutMs: number,
  timing: { settleMs: number; minRunMs: number },
): Promise<CellResult> {
  const result: CellResult = {
    backend: cell.backend,
    request: cell.request,
    fisherlab: { prepare: {}, runs: [] },
  };
  const fail = (side: Failure['side'], error: unknown) => {
    const message = (error as Error).message.split('\n')[0]!;
    result.error ??= message;
    result.failures = [
      ...(result.failures ?? []),
      {
        side,
        kind: classifyFailure(message),
        message,
        ...(error instanceof WorkerError && error.state ? { state: error.state } : {}),
      },
    ];
  };
  let oursOk = true;
  let theirsOk = torch !== undefined;
  try {
    result.fisherlab.prepare = {
      ...(await fisherlab.request<PrepareReply>('prepare', cell.request, timeoutMs)),
    };
  } catch (error) {
    fail('fisherlab', error);
    oursOk = false;
  }
  if (torch) {
    result.pytorch = { prepare: {}, runs: [] };
    try {
      result.pytorch.prepare = { ...(await torch.request<PrepareReply>('prepare', cell.request)) };
    } catch (error) {
      fail('pytorch', error);
      theirsOk = false;
    }
  }
  if (oursOk && theirsOk) {
    for (const key of ['params', 'flopsPerExample'] as const) {
      const ours = result.fisherlab.prepare[key];
      const theirs = result.pytorch?.prepare[key];
      if (theirs !== undefined && ours !== theirs) {
        fail(
          'fisherlab',
          new Error(`the two sides built different models: ${key} FisherLab ${ours}, PyTorch ${theirs}`),
        );
        oursOk = theirsOk = false;
        break;
      }
    }
  }
  for (let round = 0; round < cell.reps && (oursOk || theirsOk); round++) {
    const sides = roundOrder(round, 'fisherlab' as const, 'pytorch' as const);
    for (const side of sides) {
      await new Promise((resolve) => setTimeout(resolve, timing.settleMs));
      if (side === 'fisherlab' && oursOk) {
        try {
          result.fisherlab.runs.push(
            await fisherlab.request<TimeReply>('time', { minMs: timing.minRunMs }, timeoutMs),
          );
        } catch (error) {
          fail('fisherlab', error);
          oursOk = false;
        }
      } else if (side === 'pytorch' && theirsOk) {
        try {
          result.pytorch!.runs.push(await torch!.request<TimeReply>('time', { minMs: timing.minRunMs }));
        } catch (error) {
          fail('pytorch', error);
          theirsOk = false;
        }
      }
    }
  }
  if (oursOk && cell.profile) {
    try {
      result.fisherlab.profile = await fisherlab.request<ProfileReply>('profile', { top: 10 }, timeoutMs);
    } catch (error) {
      fail('fisherlab', error);
    }
  }
  await fisherlab.request('release').catch(() => undefined);
  await torch?.request('release').catch(() => undefined);
  return result;
}

function write(results: SuiteResults, outDir: string, name: string): { lines: Line[]; md: string } {
  const lines = results.cells.map(lineOf).filter((l): l is Line => l !== undefined);
  const md = markdown(results, derive(lines, results.cells));
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, `${name}.json`), `${JSON.stringify({ ...results, lines }, null, 1)}\n`);
  writeFileSync(join(outDir, `${name}.md`), md);
  return { lines, md };
}

/**
 * The PyTorch reference's configuration, or the exit code when the suite must stop: 2 when the
 * reference runs on a slow BLAS and `--allow-slow-reference` is absent (the message names the fixes).
 */
function checkReference(
  hello: Record<string, unknown>,
  allowSlow: boolean,
): ReferenceConfiguration | { exitCode: number } {
  let configuration: ReferenceConfiguration;
  try {
    configuration = referenceConfiguration(hello);
  } catch (error) {
    console.error((error as Error).message);
    return { exitCode: 2 };
  }
  console.log(`Reference: ${describeReference(configuration)}`);
  if (configuration.slow && !allowSlow) {
    console.error(refusal(configuration, loadAvg()));
    return { exitCode: 2 };
  }
  if (configuration.slow) {
    console.log(
      `${configuration.slow}; measuring anyway (--allow-slow-reference): every ratio is marked ${SLOW_REFERENCE_MARK}`,
    );
  }
  return configuration;
}

async function main(): Promise<number> {
  let options: ReturnType<typeof parseArgs>;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (error) {
    console.error((error as Error).message);
    return 2;
  }
  if (options.checkReference) {
    const torch = await startTorch(options.torchThreads, options.steadyMalloc ? STEADY_MALLOC : {});
    if (!torch) return 2;
    try {
      const checked = checkReference(torch.hello, options.allowSlowReference);
      return 'exitCode' in checked ? checked.exitCode : 0;
    } finally {
      await torch.worker.close();
    }
  }
  const { cells, skipped } = buildPlan(options);
  const results: SuiteResults = {
    mode: options.full ? 'full' : 'quick',
    machine: {
      date: new Date().toISOString(),
      cpus: cpus()[0]?.model ?? 'unknown',
      cores: cpus().length,
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      node: process.version,
      loadAvgStart: loadAvg(),
      timing: { settleMs: options.settleMs, minRunMs: options.minRunMs },
      fisherlab: {},
    },
    cells: [],
    skipped,
  };
  console.log(
    `FisherLab benchmark suite (${results.mode}): ${cells.length} cells; load average ${results.machine.loadAvgStart}`,
  );
  const mallocEnv = options.steadyMalloc ? STEADY_MALLOC : {};
  results.machine.malloc = options.steadyMalloc
    ? `glibc steady (${Object.entries(STEADY_MALLOC)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ')})`
    : 'glibc defaults';
  const torch = options.torch ? await startTorch(options.torchThreads, mallocEnv) : undefined;
  if (options.torch && !torch) console.log('Measuring FisherLab only.');
  if (torch) {
    const checked = checkReference(torch.hello, options.allowSlowReference);
    if ('exitCode' in checked) {
      await torch.worker.close();
      return checked.exitCode;
    }
    results.machine.pytorch = torch.hello;
    results.machine.reference = checked;
  }
  // The reference is checked; the measurements get fresh workers (below).
  await torch?.worker.close();
  const mark = results.machine.reference?.slow ? ` ${SLOW_REFERENCE_MARK}` : '';
  const unavailable = new Set<BackendName>();
  // Fresh FisherLab and PyTorch workers for each backend and model: a model's peak resident memory
  // is its own, and a heap exhausted by one model ends no other model's runs.
  for (const group of groupCells(cells)) {
    const backend = group[0]!.backend;
    if (unavailable.has(backend)) continue;
    let fisherlab = startFisherlab(backend, mallocEnv);
    let pytorch = torch ? spawnTorch(options.torchThreads, mallocEnv) : undefined;
    try {
      const hello = await fisherlab.request<Record<string, unknown>>('hello');
      if (!results.machine.fisherlab[backend]) {
        results.machine.fisherlab[backend] = hello;
        results.machine.memoryCeilings = {
          ...results.machine.memoryCeilings,
          [backend]: memoryCeiling(hello),
        };
      }
    } catch (error) {
      console.log(`${backend}: unavailable (${(error as Error).message})`);
      unavailable.add(backend);
      await Promise.all([fisherlab.close(), pytorch?.close()]);
      continue;
    }
    try {
      for (const cell of group) {
        if (fisherlab.hasExited()) {
          console.log(`${backend}: the FisherLab worker ended; starting a new one for the next cell`);
          fisherlab = startFisherlab(backend, mallocEnv);
        }
        if (pytorch?.hasExited()) {
          console.log('the PyTorch worker ended; starting a new one for the next cell');
          pytorch = spawnTorch(options.torchThreads, mallocEnv);
        }
        const result = await measure(cell, fisherlab, pytorch, options.cellTimeoutMs, options);
        results.cells.push(result);
        const line = lineOf(result);
        const failed = (result.failures ?? []).map((f) => `  (${f.side} failed: ${f.message})`).join('');
        console.log(line ? `${formatLine(line)}${line.wall ? mark : ''}${failed}` : formatFailure(result));
        write(results, options.out, options.name ?? results.mode);
        // A worker whose heap ran out may be left in a broken state: the next cell gets a new one.
        if (result.failures?.some((f) => f.side === 'fisherlab' && f.kind === 'out of memory')) {
          await fisherlab.close();
          fisherlab = startFisherlab(backend, mallocEnv);
        }
      }
    } finally {
      await Promise.all([fisherlab.close(), pytorch?.close()]);
    }
  }
  results.machine.loadAvgEnd = loadAvg();
  const { md } = write(results, options.out, options.name ?? results.mode);
  console.log(`\n${md.slice(md.indexOf('## Derived'))}`);
  console.log(`results: ${join(options.out, `${options.name ?? results.mode}.json`)} and .md`);
  return 0;
}

process.exitCode = await main();
