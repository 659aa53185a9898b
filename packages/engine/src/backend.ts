import os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { installGradients } from './gradients/index.js';
import { loadNativeAddon } from './kernels/native/addon.js';
import { registerNativeBackend } from './kernels/native/index.js';
import {
  type MemoryCeiling,
  NATIVE_BACKEND_NAME,
  nativeMemoryCeiling,
} from './kernels/native/native-tf-backend.js';
import {
  type NativeMode,
  NativeTierError,
  type NativeTierReport,
  nativeModeFromEnv,
  nativeThreadsFromEnv,
  setUpNativeTier,
} from './kernels/native/tier.js';
import { registerWasmKernels } from './kernels/wasm/index.js';
import { useThreadedWasm, wasmThreadsFromEnv } from './kernels/wasm/threaded-backend.js';

/**
 * Backends FisherLab can run on, fastest first. 'native' is tfjs's cpu backend with FisherLab's
 * oneDNN addon computing the hot kernels, tensors in JS memory (no 4 GiB wasm heap); 'wasm' runs
 * where the addon cannot be built (with the addon's kernels on top where it can, the native tier).
 */
export const BACKEND_PREFERENCE = ['tensorflow-gpu', 'tensorflow', 'native', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKEND_PREFERENCE)[number];
export type BackendRequest = BackendChoice | 'auto';

/** One attempt to bring up a backend, kept so `fisherlab doctor` can say why each one failed. */
export interface BackendAttempt {
  choice: BackendChoice;
  ok: boolean;
  /** Why it failed (or was skipped); absent when it worked. */
  reason?: string;
}

export interface BackendReport {
  /** What was asked for ('auto' unless --backend or FISHERLAB_BACKEND said otherwise). */
  requested: BackendRequest;
  /** The choice that came up. */
  choice: BackendChoice;
  /** tfjs's own name of the active backend ('tensorflow', 'native', 'wasm', 'cpu'). */
  tfBackend: string;
  attempts: BackendAttempt[];
  /**
   * Threads the backend computes with (wasm: its thread pool; cpu: 1; native: the addon's OpenMP
   * threads, JS kernels on one; tensorflow: libtensorflow's own pool, NaN).
   */
  threads: number;
  simd: boolean | undefined;
  tfjsVersion: string;
  /**
   * The addon's oneDNN kernels: whether they run (always on the native backend; on wasm as the
   * native tier), and why not.
   */
  native: NativeTierReport;
  /** The most memory the active backend's tensors can take, and what sets that limit. */
  memoryCeiling: MemoryCeiling;
  /** Where tensors are computed, as the active backend itself reports it (not inferred from the package name). */
  device: BackendDevice;
}

/** The device the active backend computes on, and the evidence for it. */
export interface BackendDevice {
  kind: 'gpu' | 'cpu';
  /** One line: what runs where, and what said so. */
  description: string;
}

/**
 * What tfjs-node's and tfjs-node-gpu's backend (NodeJSKernelBackend) expose about itself: the
 * package it came from, and whether libtensorflow placed its ops on a GPU (the binding's
 * isUsingGpuDevice(), read once when the backend is created).
 */
interface LibtensorflowBackend {
  isGPUPackage?: unknown;
  isUsingGpuDevice?: unknown;
}

/** tfjs-node-gpu started, but on the CPU: the 'tensorflow-gpu' choice failed, its message says why. */
class NoGpuDeviceError extends Error {}

/**
 * How one backend is brought up. Injected in tests so the selection logic can be checked without
 * the native packages (which cannot install on machines without internet at install time).
 */
export type BackendLoader = () => Promise<void>;

const wasmDistDir = (): string => {
  // The .wasm binaries ship inside @tensorflow/tfjs-backend-wasm's dist folder.
  const entry = import.meta.resolve('@tensorflow/tfjs-backend-wasm');
  const url = new URL('.', entry);
  return url.pathname;
};

/** The FISHERLAB_NATIVE mode the next wasm load uses, and what that load reported. */
let nativeRequest: NativeMode | undefined;
let nativeReport: NativeTierReport | undefined;

export const defaultLoaders: Record<BackendChoice, BackendLoader> = {
  'tensorflow-gpu': async () => {
    await import('@tensorflow/tfjs-node-gpu' as string);
  },
  tensorflow: async () => {
    // tfjs-node-gpu registers the same 'tensorflow' backend; when it is already loaded (it found no
    // GPU and runs libtensorflow on the CPU), importing tfjs-node too would register every kernel a
    // second time ("already registered" warnings) and change nothing.
    if (tf.findBackendFactory('tensorflow')) return;
    await import('@tensorflow/tfjs-node' as string);
  },
  wasm: async () => {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    wasm.setWasmPaths(wasmDistDir());
    const threads = wasmThreadsFromEnv();
    if (threads > 1) await useThreadedWasm(threads);
    registerWasmKernels();
    nativeReport = setUpNativeTier(nativeRequest ?? nativeModeFromEnv());
  },
  native: async () => {
    const mode = nativeRequest ?? nativeModeFromEnv();
    if (mode === 'off') throw new Error('FISHERLAB_NATIVE=off: the native addon is not used');
    const load = loadNativeAddon();
    if ('reason' in load) throw new Error(load.reason);
    const threads = load.addon.setThreads(nativeThreadsFromEnv());
    // Tensors are ordinary JS arrays here, allocated and freed by the C library at every step.
    const allocator = load.addon.keepFreedMemory();
    registerNativeBackend(load.addon);
    nativeReport = { active: true, library: load.addon.library(), threads, allocator };
  },
  cpu: async () => {
    // @tensorflow/tfjs registers the cpu backend on import.
  },
};

/** tfjs's name for the backend a choice registers. */
const TF_BACKEND_NAME: Record<BackendChoice, string> = {
  'tensorflow-gpu': 'tensorflow',
  tensorflow: 'tensorflow',
  native: NATIVE_BACKEND_NAME,
  wasm: 'wasm',
  cpu: 'cpu',
};

/** Turns whatever a failed import or init threw into one line a user can act on. */
export function describeBackendFailure(choice: BackendChoice, error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: string } | null)?.code;
  if (choice === 'tensorflow-gpu' || choice === 'tensorflow') {
    const pkg = choice === 'tensorflow-gpu' ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node';
    if (
      code === 'ERR_MODULE_NOT_FOUND' ||
      code === 'MODULE_NOT_FOUND' ||
      /Cannot find (package|module)/.test(message)
    ) {
      return `${pkg} is not installed (its install script downloads libtensorflow and needs internet; run \`pnpm install\` on a machine that has it)`;
    }
    if (/tfjs_binding\.node|native addon/i.test(message)) {
      return `${pkg} is installed but its native addon is missing (its install script did not run or failed: allow its build and reinstall)`;
    }
    if (/libcud|CUDA|cudnn/i.test(message)) {
      return `${pkg} found no usable CUDA/cuDNN: ${firstLine(message)}`;
    }
    return `${pkg} failed to load: ${firstLine(message)}`;
  }
  return `${choice} backend failed to initialise: ${firstLine(message)}`;
}

const firstLine = (s: string): string => s.split('\n')[0] ?? s;

/** Reads the backend override from the environment (`FISHERLAB_BACKEND`), validating it. */
export function backendFromEnv(env: NodeJS.ProcessEnv = process.env): BackendRequest | undefined {
  const value = env['FISHERLAB_BACKEND'];
  if (value === undefined || value === '') return undefined;
  if (value === 'auto' || (BACKEND_PREFERENCE as readonly string[]).includes(value))
    return value as BackendRequest;
  throw new Error(
    `FISHERLAB_BACKEND=${value} is not a backend; use one of auto, ${BACKEND_PREFERENCE.join(', ')} (or unset it)`,
  );
}

/**
 * An environment variable FisherLab reads holds a value it cannot use. The settings that change a
 * run's numbers are checked before any backend is tried, so a bad one is an error, never a silent
 * fall back to another backend.
 */
export class EnvironmentSettingError extends Error {
  override name = 'EnvironmentSettingError';
  constructor(
    readonly variable: string,
    readonly value: string,
    message: string,
  ) {
    super(message);
  }
}

/** The environment variables that choose a backend or its threads, each with its reader. */
const BACKEND_ENVIRONMENT: Record<string, (env: NodeJS.ProcessEnv) => unknown> = {
  FISHERLAB_BACKEND: backendFromEnv,
  FISHERLAB_NATIVE: nativeModeFromEnv,
  FISHERLAB_NATIVE_THREADS: nativeThreadsFromEnv,
  FISHERLAB_WASM_THREADS: wasmThreadsFromEnv,
};

/** Checks every backend setting of the environment; throws EnvironmentSettingError naming a bad one. */
export function checkBackendEnvironment(env: NodeJS.ProcessEnv = process.env): void {
  for (const [variable, read] of Object.entries(BACKEND_ENVIRONMENT)) {
    try {
      read(env);
    } catch (error) {
      throw new EnvironmentSettingError(variable, env[variable] ?? '', (error as Error).message);
    }
  }
}

let active: BackendReport | undefined;

/**
 * Brings up the fastest backend that works (or the one asked for), registers FisherLab's kernels
 * and gradients on it, and says what happened. Idempotent: a second call with the same request
 * returns the first report.
 *
 * Order for 'auto': tfjs-node-gpu, tfjs-node, native, wasm, cpu. An explicit request that fails throws
 * instead of falling back, so a user who asked for the GPU never silently trains on the CPU.
 */
export async function initBackend(
  options: {
    backend?: BackendRequest;
    loaders?: Partial<Record<BackendChoice, BackendLoader>>;
    /** The native tier's mode (default FISHERLAB_NATIVE, else 'auto'); only wasm has one. */
    native?: NativeMode;
  } = {},
): Promise<BackendReport> {
  checkBackendEnvironment();
  const requested = options.backend ?? backendFromEnv() ?? 'auto';
  if (active && (requested === 'auto' || requested === active.choice) && !options.loaders) {
    if (options.native !== undefined && active.choice === 'wasm') {
      active = { ...active, native: setUpNativeTier(options.native) };
    }
    return active;
  }
  nativeRequest = options.native;
  const loaders = { ...defaultLoaders, ...options.loaders };
  const candidates: readonly BackendChoice[] = requested === 'auto' ? BACKEND_PREFERENCE : [requested];
  const attempts: BackendAttempt[] = [];
  for (const choice of candidates) {
    try {
      nativeReport = undefined;
      await loaders[choice]();
      const ok = await tf.setBackend(TF_BACKEND_NAME[choice]);
      if (!ok) throw new Error(`tf.setBackend('${TF_BACKEND_NAME[choice]}') returned false`);
      await tf.ready();
      const device = describeDevice(choice, tf.backend());
      if (choice === 'tensorflow-gpu' && device.kind !== 'gpu')
        throw new NoGpuDeviceError(device.description);
      attempts.push({ choice, ok: true });
      installGradients();
      active = {
        requested,
        choice,
        tfBackend: tf.getBackend(),
        attempts,
        threads: await backendThreads(choice),
        simd: choice === 'wasm' ? Boolean(tf.env().getBool('WASM_HAS_SIMD_SUPPORT')) : undefined,
        tfjsVersion: tf.version_core,
        native: nativeTierOf(choice),
        memoryCeiling: memoryCeilingOf(choice, device),
        device,
      };
      return active;
    } catch (error) {
      if (error instanceof NativeTierError || error instanceof EnvironmentSettingError) throw error;
      const reason =
        error instanceof NoGpuDeviceError ? error.message : describeBackendFailure(choice, error);
      attempts.push({ choice, ok: false, reason });
      if (requested !== 'auto') {
        throw new Error(
          `backend '${requested}' was requested but failed: ${attempts.at(-1)?.reason}. ` +
            `Request 'auto' (initBackend() with no backend, and FISHERLAB_BACKEND unset) to fall back to what works.`,
        );
      }
    }
  }
  throw new Error(
    `no TensorFlow.js backend could start:\n${attempts.map((a) => `  ${a.choice}: ${a.reason}`).join('\n')}`,
  );
}

function nativeTierOf(choice: BackendChoice): NativeTierReport {
  if (choice === 'native') {
    return nativeReport ?? { active: false, reason: 'the native loader in use does not load the addon' };
  }
  if (choice !== 'wasm') {
    return {
      active: false,
      reason: `the native kernels run on the native backend or on top of wasm; the ${choice} backend is active`,
    };
  }
  return nativeReport ?? { active: false, reason: 'the wasm loader in use does not set up the native tier' };
}

const GiB = 2 ** 30;

/** The wasm32 heap's ceiling: every tensor of a wasm run lives in it. */
export const WASM_HEAP_BYTES = 4 * GiB;

/** Where the active backend keeps tensors, and so how much memory a run can use. */
export function memoryCeilingOf(choice: BackendChoice, device: BackendDevice): MemoryCeiling {
  if (choice === 'wasm') {
    return {
      bytes: Math.min(WASM_HEAP_BYTES, os.totalmem()),
      reason: 'tensors live in the wasm32 heap, which cannot grow past 4 GiB',
    };
  }
  if (device.kind === 'gpu') {
    return {
      bytes: null,
      reason: "tensors live in the GPU's memory (libtensorflow does not tell tfjs its size)",
    };
  }
  if (choice === 'tensorflow' || choice === 'tensorflow-gpu') {
    return {
      bytes: os.totalmem(),
      reason: 'libtensorflow keeps tensors in process memory, limited by RAM',
    };
  }
  return nativeMemoryCeiling();
}

/**
 * Gives whatever backend is active what FisherLab's computations need, for apps that set tfjs up
 * themselves instead of calling initBackend: FisherLab's gradients (every backend; without them
 * double backprop fails, e.g. "gradient function not found for Equal") and, on wasm, its kernels
 * (missing or wrong in tfjs 4.22). Idempotent and cheap; @fisherlab/fisher calls it at the start of
 * every public function. The native CPU tier is an optimisation that only initBackend sets up.
 */
export function prepareActiveBackend(): void {
  installGradients();
  if (tf.getBackend() === 'wasm') registerWasmKernels();
  if (!active && !announcedUnmanagedBackend) {
    // Never a silent fallback: tfjs on its own picks its JavaScript cpu backend, tens of times slower.
    announcedUnmanagedBackend = true;
    console.warn(
      `fisherlab: running on tfjs's '${tf.getBackend()}' backend, set up without initBackend() ` +
        '(not called, or not awaited yet); `await initBackend()` first to get the fastest backend that works here',
    );
  }
}

let announcedUnmanagedBackend = false;

export type { MemoryCeiling };

/** The report of the backend brought up by `initBackend`, if any. */
export function activeBackend(): BackendReport | undefined {
  return active;
}

/**
 * The device a freshly started backend computes on, from what the backend says about itself:
 * tfjs-node(-gpu)'s backend carries `isUsingGpuDevice` (libtensorflow's own answer: false when
 * tfjs-node-gpu fell back to the CPU, e.g. on a CUDA/cuDNN version it was not built for), and
 * `isGPUPackage`. wasm and cpu compute on the CPU by construction.
 */
export function describeDevice(choice: BackendChoice, backend: unknown): BackendDevice {
  if (choice === 'wasm') return { kind: 'cpu', description: 'CPU (WebAssembly)' };
  if (choice === 'native') {
    return {
      kind: 'cpu',
      description: "CPU (FisherLab's native addon: oneDNN kernels, the rest tfjs's JavaScript cpu kernels)",
    };
  }
  if (choice === 'cpu') return { kind: 'cpu', description: "CPU (tfjs's JavaScript cpu backend)" };
  const { isGPUPackage, isUsingGpuDevice } = (backend ?? {}) as LibtensorflowBackend;
  const from = isGPUPackage === true ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node';
  if (typeof isUsingGpuDevice !== 'boolean') {
    return {
      kind: 'cpu',
      description:
        `libtensorflow via ${from}, device unknown: its backend does not report isUsingGpuDevice ` +
        '(not a tfjs-node 4.x backend?), so no GPU is claimed',
    };
  }
  if (isUsingGpuDevice) {
    return { kind: 'gpu', description: `GPU (libtensorflow via ${from}, which reports a GPU device)` };
  }
  return {
    kind: 'cpu',
    description:
      isGPUPackage === true
        ? `CPU: ${from} loaded but libtensorflow found no usable GPU and runs on the CPU ` +
          '(check that CUDA and cuDNN are the versions its libtensorflow 2.9 was built for: CUDA 11.2, cuDNN 8.1)'
        : `CPU (libtensorflow via ${from})`,
  };
}

async function backendThreads(choice: BackendChoice): Promise<number> {
  if (choice === 'wasm') return (await import('@tensorflow/tfjs-backend-wasm')).getThreadsCount();
  if (choice === 'cpu') return 1;
  if (choice === 'native') return nativeReport?.threads ?? 1;
  return Number.NaN; // libtensorflow sizes its own pool
}
