import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm as BackendWasmType } from '@tensorflow/tfjs-backend-wasm';

/**
 * The wasm backend with XNNPACK's thread pool, under Node.
 *
 * tfjs 4.22 refuses threads under Node: its WASM_HAS_MULTITHREAD_SUPPORT flag is false there, and
 * its loader would hand Emscripten's pthread worker script over as a Blob URL, which Node's
 * worker_threads cannot start. Here the same threaded SIMD binary shipped in the package is
 * instantiated with the worker script written to a file (content-addressed, under the OS temp
 * directory), and a backend named 'wasm' is registered from it in place of the stock factory.
 * Kernels registered for 'wasm' (stock and FisherLab's) apply unchanged.
 *
 * One global side effect belongs to Emscripten's runtime and is undone: it assigns
 * `globalThis.Worker` in the main thread; the previous value (none, in Node 20) is restored once
 * the module has started its workers (it pre-spawns 8, more than the pool sizes used here).
 */

const require = createRequire(import.meta.url);
const WASM_PRIORITY = 2;

interface EmscriptenModule {
  cwrap: (name: string, returnType: string | null, argTypes: string[]) => (...args: number[]) => number;
  tfjs?: unknown;
  PThread: { runningWorkers: { unref: () => void }[] };
}

type ThreadedFactory = (config: Record<string, unknown>) => Promise<EmscriptenModule>;

function packageDir(): string {
  return dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
}

/** Writes Emscripten's pthread worker script to a file Node's worker_threads can start. */
function workerScriptFile(dir: string): string {
  const { wasmWorkerContents: templateText } = require(
    join(dir, 'wasm-out/tfjs-backend-wasm-threaded-simd.worker.js'),
  ) as { wasmWorkerContents: string };
  // The script is shipped inside a template literal, which turned its "\n" escapes into real
  // newlines (inside string literals); put the escapes back, as tfjs's own loader does.
  const wasmWorkerContents = templateText.replace(/\n/g, '\\n');
  const hash = createHash('sha256').update(wasmWorkerContents).digest('hex').slice(0, 16);
  const folder = join(tmpdir(), 'fisherlab-tfjs-wasm');
  const file = join(folder, `threaded-simd-worker-${hash}.cjs`);
  try {
    if (readFileSync(file, 'utf8') === wasmWorkerContents) return file;
  } catch {
    // not written yet
  }
  mkdirSync(folder, { recursive: true });
  const partial = `${file}.${process.pid}.tmp`;
  writeFileSync(partial, wasmWorkerContents);
  renameSync(partial, file);
  return file;
}

type Imports = Record<string, Record<string, unknown>>;

async function createThreadedModule(threads: number): Promise<EmscriptenModule> {
  const dir = packageDir();
  const mainScript = join(dir, 'wasm-out/tfjs-backend-wasm-threaded-simd.js');
  const factory = require(mainScript) as ThreadedFactory;
  const workerFile = workerScriptFile(dir);
  const wasmFile = join(dir, 'dist', 'tfjs-backend-wasm-threaded-simd.wasm');
  const hadWorker = Object.hasOwn(globalThis, 'Worker');
  const previousWorker = (globalThis as { Worker?: unknown }).Worker;
  let module: EmscriptenModule;
  try {
    module = await factory({
      locateFile: (path: string, prefix: string) => {
        if (path.endsWith('.worker.js')) return workerFile;
        if (path.endsWith('.wasm')) return wasmFile;
        return prefix + path;
      },
      mainScriptUrlOrBlob: mainScript,
      // tfjs's C++ caps its pool at emscripten_num_logical_cores() / 2 (it assumes two hyperthreads
      // per core), which is 1 on a 2-core machine. Emscripten's instantiateWasm hook lets the
      // module see 2 x threads logical cores instead, so the pool gets the size asked for.
      instantiateWasm: (
        imports: Imports,
        receiveInstance: (i: WebAssembly.Instance, m: WebAssembly.Module) => void,
      ) => {
        const env = { ...imports['env'], emscripten_num_logical_cores: () => 2 * threads };
        WebAssembly.instantiate(readFileSync(wasmFile), {
          ...imports,
          env,
          wasi_snapshot_preview1: env,
        }).then(
          ({ instance, module }) => receiveInstance(instance, module),
          (error: unknown) => {
            throw error;
          },
        );
        return {};
      },
    });
  } finally {
    if (hadWorker) (globalThis as { Worker?: unknown }).Worker = previousWorker;
    else delete (globalThis as { Worker?: unknown }).Worker;
  }
  // The same bindings tfjs's own loader attaches (tfjs-backend-wasm/src/backend_wasm.ts, init()).
  module.tfjs = {
    init: module.cwrap('init', null, []),
    initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
    getThreadsCount: module.cwrap('get_threads_count', 'number', []),
    registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
    disposeData: module.cwrap('dispose_data', null, ['number']),
    dispose: module.cwrap('dispose', null, []),
  };
  return module;
}

/** The most threads tfjs's wasm build can run: it pre-spawns 8 workers and caps its pool there. */
export const MAX_WASM_THREADS = 8;

/**
 * XNNPACK threads for the wasm backend from FISHERLAB_WASM_THREADS (unset: 1, the stock
 * single-threaded build). Threads pay off on an idle multi-core machine; on one shared with other
 * jobs they mostly contend, so they are opt-in.
 */
export function wasmThreadsFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const value = env['FISHERLAB_WASM_THREADS'];
  if (value === undefined || value === '') return 1;
  const threads = Number(value);
  if (!Number.isInteger(threads) || threads < 1 || threads > MAX_WASM_THREADS) {
    throw new Error(
      `FISHERLAB_WASM_THREADS=${value} is not a thread count; expected an integer from 1 to ${MAX_WASM_THREADS} ` +
        `(1 = single-threaded wasm); set it to e.g. 2, or unset it`,
    );
  }
  return threads;
}

let installedThreads: number | undefined;

/**
 * Makes `tf.setBackend('wasm')` bring up the threaded wasm build with `threads` XNNPACK threads.
 * Call after importing '@tensorflow/tfjs-backend-wasm' and before the wasm backend is first used.
 */
export async function useThreadedWasm(threads: number): Promise<void> {
  if (!Number.isInteger(threads) || threads < 1 || threads > MAX_WASM_THREADS) {
    throw new Error(
      `useThreadedWasm: expected an integer from 1 to ${MAX_WASM_THREADS} threads, got ${threads}`,
    );
  }
  if (installedThreads === threads) return;
  if (installedThreads !== undefined) {
    throw new Error(
      `the threaded wasm backend already runs ${installedThreads} threads in this process; ` +
        `it cannot be rebuilt with ${threads} (start a new process with FISHERLAB_WASM_THREADS=${threads})`,
    );
  }
  installedThreads = threads;
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  const BackendWasm = wasm.BackendWasm as unknown as new (module: EmscriptenModule) => BackendWasmType;
  wasm.setThreadsCount(threads);
  if (tf.findBackend('wasm') || tf.findBackendFactory('wasm')) tf.removeBackend('wasm');
  tf.registerBackend(
    'wasm',
    async () => {
      const module = await createThreadedModule(threads);
      const backend = new BackendWasm(module); // starts XNNPACK's pool threads
      // Emscripten keeps a worker that runs a thread ref'd, and pool threads never end, so the
      // process could not exit on its own; idle pool threads must not hold it.
      for (const worker of module.PThread.runningWorkers) worker.unref();
      return backend;
    },
    WASM_PRIORITY,
  );
}
