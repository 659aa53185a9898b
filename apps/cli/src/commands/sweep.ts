import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDirectory, writeFileAtomic } from '@fisherlab/storage';
import {
  createPoolDisplay,
  DEFAULT_STALE_AFTER_MS,
  formatPlanWrite,
  formatPoolSummary,
  formatSweepStatus,
  jsonProgressSink,
  type KubernetesJobOptions,
  kubernetesJob,
  kubernetesJobYaml,
  loadSweepFile,
  PROGRESS_ENV,
  planSweep,
  readPlan,
  resolveRunIndex,
  runLocalPool,
  runPlannedRun,
  type SlurmOptions,
  slurmScript,
  sweepStatus,
  validateKubernetesJob,
  writePlan,
} from '@fisherlab/sweeps';
import { consoleProgress, stopOnSignals } from '@fisherlab/training';
import { type Command, Option } from 'commander';
import { duration, wholeNumber } from '../config/flag-values.js';
import { loadPreset } from '../config/presets.js';
import { EXIT, UserError } from '../errors.js';
import { CLI_VERSION } from '../version.js';

/** This CLI's own entry point: the command the local pool's workers run. */
const BIN = fileURLToPath(new URL('../bin.js', import.meta.url));
const positiveInt = (flag: string) => wholeNumber(flag, 1);
const staleOption = () =>
  new Option(
    '--stale-after <duration>',
    'a worker on another host without a heartbeat this long is presumed gone (minutes, or 90s, 15m, 2h)',
  )
    .argParser(duration('--stale-after'))
    .default(DEFAULT_STALE_AFTER_MS, '10 minutes');

function writeOutput(text: string, out: string | undefined, what: string): void {
  if (!out) {
    process.stdout.write(text);
    return;
  }
  try {
    ensureDirectory(path.dirname(path.resolve(out)));
    writeFileAtomic(out, text);
  } catch (error) {
    throw new UserError(
      `cannot write the ${what} to ${out}: ${(error as Error).message}; choose a writable --out`,
    );
  }
  console.error(`wrote ${what} ${out}`);
}

export function registerSweep(program: Command): void {
  const sweep = program
    .command('sweep')
    .description(
      'plan a grid of runs once, then run it here (a pool), on Kubernetes (Indexed Job) or on Slurm (job array)',
    );
  registerPlan(sweep);
  registerRun(sweep);
  registerLocal(sweep);
  registerEmit(sweep.command('emit').description('write what a cluster engine needs to run the plan'));
  registerStatus(sweep);
}

function registerPlan(sweep: Command): void {
  sweep
    .command('plan')
    .description('expand a sweep file into numbered run configs with stable ids (DIR/plan.json)')
    .argument('<file>', 'sweep file (YAML or JSON)')
    .requiredOption('--out <dir>', 'sweep directory: plan.json and runs/<id>/ go here')
    .option(
      '--dry-run',
      'expand and check every run (data, model, output) without writing the plan or training',
    )
    .action(async (file: string, options: { out: string; dryRun?: boolean }) => {
      const plan = planSweep(loadSweepFile(file, { loadPreset }));
      if (options.dryRun) {
        const { dryRun } = await import('@fisherlab/training');
        for (const run of plan.runs) {
          const report = await dryRun({
            ...run.config,
            output: path.resolve(options.out, run.config.output),
          });
          console.log(`#${run.index} ${run.id} ${run.name}\n  ${report.split('\n').join('\n  ')}`);
        }
        console.log(`${plan.runs.length} runs checked; nothing was written`);
        return;
      }
      console.log(formatPlanWrite(writePlan(options.out, plan)));
    });
}

function registerRun(sweep: Command): void {
  sweep
    .command('run')
    .description(
      'run one planned run (skipped if completed, resumed if interrupted); the index comes from --index, JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID',
    )
    .argument('<dir>', 'sweep directory (from sweep plan)')
    .option('--index <i>', 'run index (0-based)')
    .option('--force', 'take over the run even if its worker still looks alive')
    .addOption(staleOption())
    .action(async (dir: string, options: { index?: string; force?: boolean; staleAfter: number }) => {
      const plan = readPlan(dir);
      const { index, from } = resolveRunIndex(options.index, process.env, plan.runs.length, dir);
      if (from !== '--index') console.error(`run index ${index} from ${from}`);
      const progress =
        process.env[PROGRESS_ENV] === 'jsonl'
          ? { ...jsonProgressSink(), done() {} }
          : consoleProgress(`#${index}`);
      const signals = stopOnSignals({ say: progress.log });
      try {
        const result = await runPlannedRun(dir, index, {
          force: Boolean(options.force),
          assignedByEngine: from !== '--index',
          staleAfterMs: options.staleAfter,
          signal: signals.signal,
          progress,
          versions: { fisherlab: CLI_VERSION },
        });
        if (result.action !== 'skipped' || result.status === 'interrupted') {
          console.error(
            `run ${index} (${result.id}): ${result.status}${result.error ? `: ${result.error}` : ''}`,
          );
        }
        process.exitCode = result.status === 'interrupted' ? EXIT.interrupted : EXIT.ok;
      } finally {
        signals.dispose();
        progress.done();
      }
    });
}

function registerLocal(sweep: Command): void {
  sweep
    .command('local')
    .description(
      'run the planned runs on this machine with a pool of worker processes; failures are isolated and listed',
    )
    .argument('<dir>', 'sweep directory (from sweep plan)')
    .option('--workers <n>', 'worker processes at once', positiveInt('--workers'), 1)
    .option('--only <indices>', 'comma-separated run indices (default: all)')
    .addOption(staleOption())
    .action(async (dir: string, options: { workers: number; only?: string; staleAfter: number }) => {
      const plan = readPlan(dir);
      const indices = options.only
        ?.split(',')
        .map((raw) => resolveRunIndex(raw.trim(), {}, plan.runs.length, dir).index);
      const display = createPoolDisplay({ sweep: plan.sweep, total: indices?.length ?? plan.runs.length });
      const controller = new AbortController();
      // every signal is passed on to the workers (each checkpoints); the pool waits for them
      const onSignal = () => controller.abort();
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        const summary = await runLocalPool(dir, {
          workers: options.workers,
          workerCommand: [process.execPath, BIN],
          staleAfterMs: options.staleAfter,
          onEvent: display.onEvent,
          signal: controller.signal,
          ...(indices ? { indices } : {}),
        });
        display.done();
        console.log(formatPoolSummary(summary, dir));
        const failed = summary.results.some((r) => r.status === 'failed');
        process.exitCode = summary.interrupted ? EXIT.interrupted : failed ? EXIT.internal : EXIT.ok;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}

function registerEmit(emit: Command): void {
  emit
    .command('k8s')
    .description('a Kubernetes Indexed Job manifest (completions = runs), validated against the Job schema')
    .argument('<dir>', 'sweep directory (from sweep plan)')
    .requiredOption('--image <ref>', 'container image with fisherlab (see the Dockerfile)')
    .option('--out <file>', 'write here instead of stdout')
    .option('--name <name>', 'Job name (default fisherlab-<sweep>)')
    .option('--namespace <ns>', 'namespace')
    .option('--parallelism <n>', 'pods at once (default min(runs, 4))', positiveInt('--parallelism'))
    .option('--cpu <quantity>', 'CPU request and limit per pod, e.g. 4')
    .option('--memory <quantity>', 'memory request and limit per pod, e.g. 16Gi')
    .option('--gpus <n>', 'GPUs per pod', positiveInt('--gpus'))
    .option('--gpu-resource <name>', 'extended resource name of a GPU', 'nvidia.com/gpu')
    .option('--pvc <claim>', 'PersistentVolumeClaim (ReadWriteMany) holding the sweep directory')
    .option('--host-path <dir>', 'host directory holding the sweep directory (single-node clusters)')
    .option('--mount-path <dir>', 'where the sweep directory is mounted in the pod', '/sweep')
    .option(
      '--data-pvc <claim>',
      'claim with the datasets, mounted read-only at /data (FISHERLAB_DATA=/data)',
    )
    .option('--retries <n>', 'retries per index (backoffLimitPerIndex)', wholeNumber('--retries', 0), 2)
    .option(
      '--grace-period <seconds>',
      'seconds a pod has after SIGTERM to checkpoint (terminationGracePeriodSeconds)',
      positiveInt('--grace-period'),
      120,
    )
    .option('--env <KEY=VALUE...>', 'extra environment variables for the pods')
    .action(
      (
        dir: string,
        options: Omit<KubernetesJobOptions, 'env' | 'backoffLimitPerIndex' | 'gracePeriodSeconds'> & {
          out?: string;
          retries: number;
          gracePeriod: number;
          env?: string[];
        },
      ) => {
        const plan = readPlan(dir);
        const env: Record<string, string> = {};
        for (const pair of options.env ?? []) {
          const at = pair.indexOf('=');
          if (at < 1) throw new UserError(`--env expects KEY=VALUE, got '${pair}'`);
          env[pair.slice(0, at)] = pair.slice(at + 1);
        }
        const { out, retries, gracePeriod, env: _env, ...rest } = options;
        const job = kubernetesJob(plan, {
          ...rest,
          backoffLimitPerIndex: retries,
          gracePeriodSeconds: gracePeriod,
          env,
        });
        validateKubernetesJob(job);
        writeOutput(kubernetesJobYaml(job, plan, path.resolve(dir)), out, 'Kubernetes Job manifest');
      },
    );

  emit
    .command('slurm')
    .description('an sbatch script: a job array over the runs with a concurrency limit')
    .argument('<dir>', 'sweep directory (from sweep plan), as the compute nodes see it')
    .option('--out <file>', 'write here instead of stdout')
    .option('--job-name <name>', 'default fisherlab-<sweep>')
    .option('--concurrency <n>', 'array tasks at once (%N)', positiveInt('--concurrency'), 4)
    .option(
      '--cpus-per-task <n>',
      "CPUs per task (default: the plan's thread count)",
      positiveInt('--cpus-per-task'),
    )
    .option('--mem <size>', 'memory per task, e.g. 16G')
    .option('--time <limit>', 'wall time per task, e.g. 12:00:00')
    .option('--gpus <n>', 'GPUs per task (--gres=gpu:N)', positiveInt('--gpus'))
    .option('--partition <name>', 'partition')
    .option('--account <name>', 'account')
    .option('--log-dir <dir>', 'where Slurm writes task output (default DIR/logs)')
    .option('--setup <line...>', "shell lines before the command, e.g. 'module load cuda'")
    .option('--command <cmd>', 'how to invoke fisherlab on the nodes', 'fisherlab')
    .option(
      '--signal-before <seconds>',
      'Slurm sends SIGTERM this long before the time limit; the run checkpoints and the task requeues itself',
      positiveInt('--signal-before'),
      120,
    )
    .action((dir: string, options: SlurmOptions & { out?: string }) => {
      const plan = readPlan(dir);
      const { out, ...rest } = options;
      const script = slurmScript(plan, dir, rest);
      const logDir = path.resolve(rest.logDir ?? path.join(dir, 'logs'));
      ensureDirectory(logDir); // Slurm does not create the --output directory
      writeOutput(script, out, 'sbatch script');
    });
}

function registerStatus(sweep: Command): void {
  sweep
    .command('status')
    .description('count done/running/failed/pending runs from the run records alone')
    .argument('<dir>', 'sweep directory (from sweep plan)')
    .option('--all', 'list every run, not only the ones that are not completed')
    .option('--json', 'print one JSON object')
    .addOption(staleOption())
    .action((dir: string, options: { all?: boolean; json?: boolean; staleAfter: number }) => {
      const report = sweepStatus(dir, { staleAfterMs: options.staleAfter });
      console.log(
        options.json
          ? JSON.stringify(report, null, 2)
          : formatSweepStatus(report, { all: Boolean(options.all) }),
      );
    });
}
