import type { SweepPlan } from './plan.js';

/**
 * One thread policy for a run id on every engine. The native CPU kernels' results depend on their
 * thread count in the last digits (the order of the sums), so the plan records one count and every
 * engine runs every run with it: the local pool sets it in each worker's environment, the Slurm
 * script exports it (and asks for that many CPUs per task unless told otherwise), the Kubernetes
 * manifest sets it in the pod's env, and `sweep run` applies it before the backend starts.
 */
export const NATIVE_THREADS_ENV = 'FISHERLAB_NATIVE_THREADS';

/** Plans written before the count was recorded ran with one thread per worker in the local pool. */
export const DEFAULT_NATIVE_THREADS = 1;

export const nativeThreadsOf = (plan: Pick<SweepPlan, 'nativeThreads'>): number =>
  plan.nativeThreads ?? DEFAULT_NATIVE_THREADS;

/** The environment every engine gives a run of this plan. */
export const threadEnvironment = (plan: Pick<SweepPlan, 'nativeThreads'>): Record<string, string> => ({
  [NATIVE_THREADS_ENV]: String(nativeThreadsOf(plan)),
});

/**
 * Makes this process run the plan's thread count (before the backend starts); returns a line to
 * log when the environment asked for another one, which the plan overrides.
 */
export function applyPlanThreads(
  plan: Pick<SweepPlan, 'nativeThreads'>,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  const planned = String(nativeThreadsOf(plan));
  const asked = env[NATIVE_THREADS_ENV];
  env[NATIVE_THREADS_ENV] = planned;
  if (asked === undefined || asked === planned) return undefined;
  return `${NATIVE_THREADS_ENV}=${asked} replaced by the plan's ${planned} (a run id has one thread count on every engine; set threads: in the sweep file and re-plan to change it)`;
}
