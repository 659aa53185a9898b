import os from 'node:os';
import { loadNativeAddon } from './addon.js';
import { registerNativeKernels, unregisterNativeKernels } from './index.js';

/** FISHERLAB_NATIVE: 'auto' uses the native tier when its addon loads, 'off' never, 'on' or fail. */
export type NativeMode = 'auto' | 'off' | 'on';

/** What `fisherlab doctor` says about the native CPU tier. */
export interface NativeTierReport {
  /** Whether the native convolution kernels run (on top of wasm). */
  active: boolean;
  /** Why it is not active; absent when it is. */
  reason?: string;
  /** The BLAS build the addon runs on. */
  library?: string;
  /** Threads of the native kernels (FISHERLAB_NATIVE_THREADS, default min(2, cores)). */
  threads?: number;
}

/** Raised for FISHERLAB_NATIVE=on when the tier cannot start; initBackend does not fall back on it. */
export class NativeTierError extends Error {
  override name = 'NativeTierError';
}

export function nativeModeFromEnv(env: NodeJS.ProcessEnv = process.env): NativeMode {
  const value = env['FISHERLAB_NATIVE'];
  if (value === undefined || value === '') return 'auto';
  if (value === 'auto' || value === 'off' || value === 'on') return value;
  throw new Error(`FISHERLAB_NATIVE=${value} is not a mode; use auto, on or off (or unset it)`);
}

export function nativeThreadsFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const value = env['FISHERLAB_NATIVE_THREADS'];
  if (value === undefined || value === '') return Math.min(2, os.availableParallelism());
  const threads = Number(value);
  if (!Number.isInteger(threads) || threads < 1) {
    throw new Error(`FISHERLAB_NATIVE_THREADS=${value} is not a positive integer; use e.g. 2 (or unset it)`);
  }
  return threads;
}

/**
 * Brings the native tier up on the wasm backend (or leaves the plain wasm kernels in place) and
 * says which tier runs and why. Call after registerWasmKernels().
 */
export function setUpNativeTier(
  mode: NativeMode = nativeModeFromEnv(),
  threads: number = nativeThreadsFromEnv(),
): NativeTierReport {
  if (mode === 'off') {
    unregisterNativeKernels();
    return { active: false, reason: 'FISHERLAB_NATIVE=off: the wasm kernels run alone' };
  }
  const load = loadNativeAddon();
  if ('reason' in load) {
    if (mode === 'on') throw new NativeTierError(`FISHERLAB_NATIVE=on but ${load.reason}`);
    return { active: false, reason: load.reason };
  }
  const effective = load.addon.setThreads(threads);
  registerNativeKernels(load.addon);
  return { active: true, library: load.addon.library(), threads: effective };
}
