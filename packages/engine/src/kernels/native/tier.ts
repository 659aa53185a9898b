import os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { loadNativeAddon } from './addon.js';
import { registerNativeKernels, unregisterNativeKernels } from './index.js';
import { NATIVE_BACKEND_NAME } from './native-tf-backend.js';

/** FISHERLAB_NATIVE: 'auto' uses the native tier when its addon loads, 'off' never, 'on' or fail. */
export type NativeMode = 'auto' | 'off' | 'on';

/** What `fisherlab doctor` says about the addon's kernels (the native backend's, or the native tier's on wasm). */
export interface NativeTierReport {
  /** Whether the addon's kernels run (on the native backend, or on top of wasm). */
  active: boolean;
  /** Why it is not active; absent when it is. */
  reason?: string;
  /** The BLAS build the addon runs on. */
  library?: string;
  /** Threads of the native kernels (FISHERLAB_NATIVE_THREADS, default min(2, cores)). */
  threads?: number;
  /** The native backend: how the C library's malloc treats freed memory (see keepFreedMemory). */
  allocator?: string;
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
 * says which tier runs and why. Call after registerWasmKernels(). On the native backend, whose
 * kernels are the addon's by construction, it only sets the addon's thread count.
 */
export function setUpNativeTier(
  mode: NativeMode = nativeModeFromEnv(),
  threads: number = nativeThreadsFromEnv(),
): NativeTierReport {
  if (tf.getBackend() === NATIVE_BACKEND_NAME) {
    if (mode === 'off') {
      throw new NativeTierError(
        'FISHERLAB_NATIVE=off but the native backend is active, and its kernels are the addon; use the wasm backend (initBackend({ backend: "wasm" }) or FISHERLAB_BACKEND=wasm) for the wasm kernels alone',
      );
    }
    const load = loadNativeAddon();
    if ('reason' in load) throw new NativeTierError(load.reason);
    return { active: true, library: load.addon.library(), threads: load.addon.setThreads(threads) };
  }
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
