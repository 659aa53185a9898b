import { SweepError } from './errors.js';

/**
 * Where `sweep run` takes its run index from, in order: the --index flag, then the variables the
 * engines set for each task: Kubernetes Indexed Jobs set JOB_COMPLETION_INDEX (0-based), Slurm job
 * arrays set SLURM_ARRAY_TASK_ID (the emitted script uses --array=0-(N-1)).
 */
export const INDEX_VARIABLES = ['JOB_COMPLETION_INDEX', 'SLURM_ARRAY_TASK_ID'] as const;

export interface ResolvedIndex {
  index: number;
  /** '--index' or the variable it came from. */
  from: string;
}

export function resolveRunIndex(
  flag: string | undefined,
  env: NodeJS.ProcessEnv,
  runCount: number,
  planDir: string,
): ResolvedIndex {
  let raw: string | undefined;
  let from = '--index';
  if (flag !== undefined) {
    raw = flag;
  } else {
    for (const name of INDEX_VARIABLES) {
      if (env[name] !== undefined && env[name] !== '') {
        raw = env[name];
        from = name;
        break;
      }
    }
  }
  if (raw === undefined) {
    throw new SweepError(
      `no run index: pass --index I (0 to ${runCount - 1} for ${planDir}), or run under an engine that sets ${INDEX_VARIABLES.join(' or ')}`,
    );
  }
  const index = Number(raw.trim());
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(index) || index >= runCount) {
    throw new SweepError(
      `run index ${JSON.stringify(raw)} (from ${from}) is out of range: the plan ${planDir} has runs 0 to ${runCount - 1}. ` +
        (from === 'SLURM_ARRAY_TASK_ID'
          ? `Submit the array as --array=0-${runCount - 1} (the script from \`fisherlab sweep emit slurm\` does)`
          : from === 'JOB_COMPLETION_INDEX'
            ? `Set the Job's completions to ${runCount} (the manifest from \`fisherlab sweep emit k8s\` does), or re-emit it after re-planning`
            : `Pass an index from 0 to ${runCount - 1}`),
    );
  }
  return { index, from };
}
