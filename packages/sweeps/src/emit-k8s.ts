import type { IJob } from 'kubernetes-models/batch/v1/Job';
import { Job } from 'kubernetes-models/batch/v1/Job';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IVolume } from 'kubernetes-models/v1/Volume';
import type { IVolumeMount } from 'kubernetes-models/v1/VolumeMount';
import YAML from 'yaml';
import { SweepError, WORKER_EXIT } from './errors.js';
import type { SweepPlan } from './plan.js';
import { NATIVE_THREADS_ENV, threadEnvironment } from './threads.js';

/**
 * A Kubernetes Indexed Job for a planned sweep: completions = runs, each pod runs
 * `fisherlab sweep run <mount>`, which reads its index from JOB_COMPLETION_INDEX. The sweep
 * directory (plan.json and runs/) lives on a volume every pod mounts read-write.
 *
 * Preemption: a pod that is preempted, evicted, drained or deleted gets SIGTERM and
 * `terminationGracePeriodSeconds` to stop; the run checkpoints and exits 130. Neither that exit
 * code nor a disruption counts against `backoffLimitPerIndex`, and the replacement pod (created
 * only once the old one has terminated: `podReplacementPolicy: Failed`) resumes from the checkpoint.
 */

export interface KubernetesJobOptions {
  image: string;
  /** Job name (a DNS label); default fisherlab-<sweep name>. */
  name?: string;
  namespace?: string;
  /** Pods running at once; default min(runs, 4). */
  parallelism?: number;
  /** Resource requests (= limits), e.g. cpu '4', memory '16Gi'. */
  cpu?: string;
  memory?: string;
  /** GPUs per pod (extended resource `gpuResource`, default nvidia.com/gpu). */
  gpus?: number;
  gpuResource?: string;
  /** The sweep directory's volume: a PersistentVolumeClaim, or a host path (single-node clusters). */
  pvc?: string;
  hostPath?: string;
  /** Where the sweep directory is mounted in the pod (default /sweep). */
  mountPath?: string;
  /** A claim holding the datasets, mounted read-only at /data with FISHERLAB_DATA=/data. */
  dataPvc?: string;
  /** Retries per index (default 2); a run resumes from its checkpoint on retry. */
  backoffLimitPerIndex?: number;
  /** Seconds a pod has between SIGTERM and SIGKILL to checkpoint (default 120). */
  gracePeriodSeconds?: number;
  env?: Record<string, string>;
  /** The executable in the image (default ['fisherlab']). */
  command?: string[];
}

const CONTAINER = 'fisherlab';
const DNS_LABEL = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

export function kubernetesJob(plan: SweepPlan, options: KubernetesJobOptions): IJob {
  const runs = plan.runs.length;
  const name = options.name ?? `fisherlab-${plan.sweep}`;
  if (!DNS_LABEL.test(name) || name.length > 63) {
    throw new SweepError(
      `Job name '${name}' is not a DNS label (lower-case letters, digits, dashes, at most 63): pass --name`,
    );
  }
  if (options.pvc && options.hostPath) {
    throw new SweepError('pass either --pvc or --host-path for the sweep directory, not both');
  }
  if (!options.pvc && !options.hostPath) {
    throw new SweepError(
      'the pods need the sweep directory on a shared volume: pass --pvc CLAIM (a ReadWriteMany PersistentVolumeClaim holding the directory) or --host-path DIR (single-node clusters)',
    );
  }
  const gracePeriodSeconds = options.gracePeriodSeconds ?? 120;
  if (!Number.isInteger(gracePeriodSeconds) || gracePeriodSeconds < 1) {
    throw new SweepError(`--grace-period must be a positive number of seconds, got ${gracePeriodSeconds}`);
  }
  const mountPath = options.mountPath ?? '/sweep';
  const volumes: IVolume[] = [
    options.pvc
      ? { name: 'sweep', persistentVolumeClaim: { claimName: options.pvc } }
      : { name: 'sweep', hostPath: { path: options.hostPath!, type: 'Directory' } },
  ];
  const volumeMounts: IVolumeMount[] = [{ name: 'sweep', mountPath }];
  const env: { name: string; value: string }[] = [];
  if (options.dataPvc) {
    volumes.push({ name: 'data', persistentVolumeClaim: { claimName: options.dataPvc, readOnly: true } });
    volumeMounts.push({ name: 'data', mountPath: '/data', readOnly: true });
    env.push({ name: 'FISHERLAB_DATA', value: '/data' });
  }
  if (options.env?.[NATIVE_THREADS_ENV] !== undefined) {
    throw new SweepError(
      `--env ${NATIVE_THREADS_ENV}: the plan sets the thread count of its runs (threads: in the sweep file, then re-plan); drop it from --env`,
    );
  }
  for (const [key, value] of Object.entries({ ...options.env, ...threadEnvironment(plan) }))
    env.push({ name: key, value });

  const resources: Record<string, string | number> = {};
  if (options.cpu) resources['cpu'] = options.cpu;
  if (options.memory) resources['memory'] = options.memory;
  if (options.gpus) resources[options.gpuResource ?? 'nvidia.com/gpu'] = options.gpus;
  const container: IContainer = {
    name: CONTAINER,
    image: options.image,
    command: [...(options.command ?? ['fisherlab']), 'sweep', 'run', mountPath],
    volumeMounts,
    ...(env.length ? { env } : {}),
    ...(Object.keys(resources).length ? { resources: { requests: resources, limits: resources } } : {}),
  };
  const labels = { 'app.kubernetes.io/name': 'fisherlab', 'fisherlab/sweep': plan.sweep };
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, labels, ...(options.namespace ? { namespace: options.namespace } : {}) },
    spec: {
      completionMode: 'Indexed',
      completions: runs,
      parallelism: Math.min(options.parallelism ?? 4, runs),
      backoffLimitPerIndex: options.backoffLimitPerIndex ?? 2,
      // a replacement pod starts only after the old one has stopped, so two never write one run
      podReplacementPolicy: 'Failed',
      podFailurePolicy: {
        rules: [
          // A config or data error (exit 2) fails again on every retry: give up on that index at once.
          {
            action: 'FailIndex',
            onExitCodes: { containerName: CONTAINER, operator: 'In', values: [WORKER_EXIT.userError] },
          },
          // Interrupted by SIGTERM after a checkpoint (130), or killed by it while node was still
          // starting, before anything was written (143): retry without counting it (it resumes).
          {
            action: 'Ignore',
            onExitCodes: {
              containerName: CONTAINER,
              operator: 'In',
              values: [WORKER_EXIT.interrupted, WORKER_EXIT.killedByTerm],
            },
          },
          // Preemption or eviction is not the run's fault, even when the pod had to be killed.
          { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
        ],
      },
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: 'Never',
          terminationGracePeriodSeconds: gracePeriodSeconds,
          containers: [container],
          volumes,
        },
      },
    },
  };
}

/** Checks the manifest against the Kubernetes Job schema (kubernetes-models' OpenAPI validators). */
export function validateKubernetesJob(job: IJob): void {
  try {
    new Job(job).validate();
  } catch (error) {
    throw new SweepError(
      `the Job manifest does not validate against the Kubernetes schema: ${(error as Error).message}`,
    );
  }
}

export function kubernetesJobYaml(job: IJob, plan: SweepPlan, planDir: string): string {
  const header = [
    `# Kubernetes Indexed Job for sweep ${plan.sweep}: ${plan.runs.length} runs, planned in ${planDir}.`,
    '# Copy that directory onto the volume first; results land in its runs/<id>/ for `fisherlab report`.',
    '# kubectl apply -f this.yaml; progress: fisherlab sweep status <dir on the volume>',
  ];
  return `${header.join('\n')}\n${YAML.stringify(job, { lineWidth: 0 })}`;
}
