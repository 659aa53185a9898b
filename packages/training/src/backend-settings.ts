import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import {
  type BackendReport,
  type BackendRequest,
  backendFromEnv,
  EnvironmentSettingError,
  initBackend,
  nativeModeFromEnv,
  nativeThreadsFromEnv,
  setUpNativeTier,
} from '@fisherlab/engine';
import type { RunMeta } from '@fisherlab/storage';
import { BackendError } from './errors.js';
import type { RunSettings, StartPlan } from './run-directory.js';

/**
 * The settings that change a run's numbers besides its config: the backend (each computes floats
 * its own way) and the native kernels' thread count (oneDNN splits reductions by it). A fresh run
 * takes them from its config and the environment (FISHERLAB_BACKEND for a config that says auto,
 * FISHERLAB_NATIVE_THREADS; a bad value throws, it never falls back) and meta.json records them. A
 * resume continues with the recorded ones whatever the environment says now (and logs the
 * difference), so it ends with the numbers of a run never stopped; a recorded backend that cannot
 * start here is refused (BackendError), not replaced.
 */
export async function startRunBackend(
  plan: StartPlan,
  log: (message: string) => void,
): Promise<BackendReport> {
  const recorded = plan.checkpoint ? plan.previous : undefined;
  const pinned =
    recorded?.backend !== undefined && recorded.backend !== 'unknown' ? recorded.backend : undefined;
  let request: BackendRequest | undefined = plan.config.backend;
  if (pinned !== undefined && (request === undefined || request === 'auto')) {
    const asked = backendFromEnv();
    if (asked !== undefined && asked !== 'auto' && asked !== pinned)
      log(
        `backend: ${pinned}, as when this run started (FISHERLAB_BACKEND asks for ${asked}), so it continues exactly`,
      );
    request = pinned as BackendRequest;
  }
  let backend: BackendReport;
  try {
    backend = await startBackend(request);
  } catch (error) {
    if (pinned === undefined || !(error instanceof BackendError)) throw error;
    throw new BackendError(
      `${error.message}. This run started on the ${pinned} backend and continues on it (another backend computes other numbers): resume it where ${pinned} starts`,
      pinned,
    );
  }
  return settleNativeThreads(backend, recorded, log);
}

/**
 * The native tier runs with FISHERLAB_NATIVE_THREADS threads, and a resumed run with the count it
 * started with (recorded in meta.json).
 */
function settleNativeThreads(
  backend: BackendReport,
  previous: RunMeta | undefined,
  log: (message: string) => void,
): BackendReport {
  if (!backend.native?.active) return backend;
  const requested = nativeThreadsFromEnv();
  const recorded = previous?.nativeThreads;
  if (recorded !== undefined && recorded !== requested)
    log(
      `native tier: ${recorded} threads, as when this run started (${requested} requested now), so it continues exactly`,
    );
  return { ...backend, native: setUpNativeTier(nativeModeFromEnv(), recorded ?? requested) };
}

/**
 * Brings up the requested backend; one that cannot start (not installed, no GPU, a bad
 * FISHERLAB_BACKEND, FISHERLAB_NATIVE or FISHERLAB_NATIVE_THREADS) is an environment problem the
 * caller fixes (BackendError).
 */
export async function startBackend(request?: BackendRequest): Promise<BackendReport> {
  try {
    // 'auto' (a spec's default) leaves the choice to initBackend, which honours FISHERLAB_BACKEND.
    return await initBackend(request === undefined || request === 'auto' ? {} : { backend: request });
  } catch (error) {
    if (error instanceof EnvironmentSettingError) throw error; // names the variable and the fix
    throw new BackendError(
      `${(error as Error).message}; initBackend's report (\`fisherlab doctor\` prints it) shows what each backend needs`,
    );
  }
}

/** What meta.json records about how the run computes. */
export function runSettings(backend: BackendReport, extraVersions: Record<string, string> = {}): RunSettings {
  const commit = gitCommit();
  return {
    backend: backend.choice,
    versions: { ...collectVersions(backend), ...extraVersions },
    ...(commit ? { gitCommit: commit } : {}),
    ...(backend.native?.active && backend.native.threads !== undefined
      ? { nativeThreads: backend.native.threads }
      : {}),
    memoryCeiling: backend.memoryCeiling,
  };
}

const packageVersion = (createRequire(import.meta.url)('../package.json') as { version: string }).version;

/** Versions recorded in meta.json, so a result can be traced to the code and runtime that made it. */
export function collectVersions(backend: BackendReport): Record<string, string> {
  return {
    fisherlab: packageVersion,
    node: process.version,
    tfjs: backend.tfjsVersion,
    backend: backend.choice,
    // What the backend itself reports (tfjs-node-gpu can run on the CPU), not the package's name.
    device: backend.device.description,
  };
}

let commit: string | null | undefined;

/** The git commit of the working directory's repository, if any (cached). */
export function gitCommit(): string | undefined {
  if (commit === undefined) {
    try {
      commit = execFileSync('git', ['rev-parse', 'HEAD'], {
        stdio: ['ignore', 'pipe', 'ignore'],
        timeout: 2000,
      })
        .toString()
        .trim();
    } catch {
      commit = null;
    }
  }
  return commit ?? undefined;
}
