import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import {
  type BackendReport,
  type BackendRequest,
  initBackend,
  nativeModeFromEnv,
  nativeThreadsFromEnv,
  setUpNativeTier,
  tf,
} from '@fisherlab/engine';
import type {
  CurvatureRecord,
  EvalRecord,
  FisherRecord,
  MetricRecord,
  RunMeta,
  TrainRecord,
} from '@fisherlab/storage';
import type { TrainerState } from './checkpoint.js';
import {
  type EvaluationResult,
  evaluateSplit,
  type PreparedData,
  prepareData,
  type TensorBatch,
} from './data.js';
import { TrainingError } from './errors.js';
import { eventsAfterStep, isPenalizedStep, isTrackingStep, runLength } from './events.js';
import { createPenalizedStep, measureCurvature, measureFisherTrace } from './measurements.js';
import type { MetricsLog } from './metrics-log.js';
import {
  buildRunModel,
  copyCheckpointWeights,
  customRunModel,
  type ModelInputs,
  modelSignature,
  type RunModel,
} from './model.js';
import { plainStep, type StepResult } from './objective.js';
import { Optimizer } from './optimizer.js';
import { RunDirectory } from './run-directory.js';
import type { HeldLock } from './run-lock.js';
import { learningRateAt } from './schedule.js';
import { parseRunConfig, type RunConfig, type RunConfigInput } from './spec.js';

/** The live figures of a run, for a progress display. */
export interface ProgressFigures {
  loss?: number;
  accuracy?: number;
  traceF?: number;
  traceFStdErr?: number;
  penalty?: number | null;
  testAccuracy?: number;
}

export interface TrainProgress {
  /** Steps completed. */
  step: number;
  totalSteps: number;
  epoch: number;
  figures: ProgressFigures;
}

export interface TrainOptions {
  /** Continue the run in spec.output from its latest checkpoint. */
  resume?: boolean;
  /** Called with every record as it is appended to metrics.jsonl. */
  onRecord?: (record: MetricRecord) => void;
  /** Called after every completed step. */
  onProgress?: (progress: TrainProgress) => void;
  /** Lines a person would want to read (evaluations, resumes, divergence); default: none. */
  log?: (message: string) => void;
  /**
   * Aborting it stops the run at the next step boundary: a checkpoint is written and the outcome
   * is 'interrupted' (train again with resume: true to continue, to the same numbers).
   */
  signal?: AbortSignal;
  /** Stop after this many steps in this call, checkpointing as for an abort (tests). */
  stopAfterSteps?: number;
  /** The run's lock, when the caller already holds it (sweep workers); otherwise train takes it. */
  lock?: HeldLock;
  /** Config keys a resume changed (only those safe to change), recorded in meta.json. */
  configChanges?: ConfigChange[];
  /** Extra entries for meta.json's `versions` (e.g. the calling tool's own version). */
  versions?: Record<string, string>;
  /**
   * Trains a model of your own (any LayersModel that outputs logits) instead of the zoo's
   * `spec.model`; config.json then records `model.arch: 'custom'`. Called once per train() call,
   * so a resume must build the same architecture (the checkpoint is checked against it). It runs
   * with Math.random seeded from spec.seed, so tfjs's initializers are seeded without asking; any
   * other randomness it draws must come from the `seed` it receives. Its output width must equal
   * the dataset's class count and its input the images' shape (InputError before training).
   */
  model?: (inputs: ModelInputs) => tf.LayersModel;
}

/** A config key changed when a run was resumed, as recorded in meta.json. */
export interface ConfigChange {
  key: string;
  from: unknown;
  to: unknown;
  /** Steps completed when the change took effect. */
  step: number;
  at: string;
}

export interface TrainOutcome {
  status: RunMeta['status'];
  runDir: string;
  steps: number;
  last: { train?: TrainRecord; eval?: EvalRecord; fisher?: FisherRecord };
  error?: RunMeta['error'];
}

class Divergence extends Error {
  constructor(
    readonly quantity: string,
    readonly step: number,
    value: number,
  ) {
    super(`${quantity} became ${value} at step ${step}`);
  }
}

const finiteOrThrow = (quantity: string, step: number, value: number): number => {
  if (!Number.isFinite(value)) throw new Divergence(quantity, step, value);
  return value;
};

/**
 * Trains one run described by `spec` (a run config; defaults filled in, unknown keys refused),
 * writing config.json, meta.json, metrics.jsonl and checkpoints into `spec.output`, and returns
 * how it ended: 'completed', 'diverged' (a non-finite loss, gradient, penalty or Tr(F); the last
 * good checkpoint is kept) or 'interrupted' (aborted; a checkpoint was written). Errors a caller
 * can fix throw InputError (a bad spec, model or dataset) or TrainingError (a run directory in the
 * wrong state). Deterministic given the seed on one backend: every random choice
 * is drawn from a stream derived from (seed, purpose, step) (see STREAM), so a resumed run replays
 * the same choices and ends with the same numbers as one never stopped.
 */
export async function train(
  spec: RunConfigInput | RunConfig,
  options: TrainOptions = {},
): Promise<TrainOutcome> {
  let config = parseRunConfig(spec, 'spec');
  if (options.model) config = { ...config, model: { arch: 'custom', options: {} } };
  const run = RunDirectory.open(config.output, options.lock);
  try {
    return await trainIn(run, config, options);
  } finally {
    run.release();
  }
}

async function trainIn(run: RunDirectory, config: RunConfig, options: TrainOptions): Promise<TrainOutcome> {
  const log = options.log ?? (() => {});
  let backend = await startBackend(config.backend);
  const previousMeta = options.resume ? run.readMeta() : undefined;
  run.prepare(config, Boolean(options.resume), log);
  backend = settleNativeThreads(backend, previousMeta, log);
  const versions = { ...collectVersions(backend), ...options.versions };

  let data: PreparedData;
  let runModel: RunModel;
  try {
    data = await prepareData(config);
    runModel = options.model ? customRunModel(options.model, data, config) : buildRunModel(config, data);
  } catch (error) {
    // Leave a record that says why: a run directory without meta.json reads as "never started".
    const at = new Date().toISOString();
    run.writeMeta({
      id: run.id,
      name: config.name || run.id,
      status: 'failed',
      startedAt: at,
      endedAt: at,
      backend: backend.choice,
      versions,
      error: { message: error instanceof Error ? error.message : String(error), step: 0 },
    });
    throw error;
  }
  const length = runLength(config, data.train.count);
  const { stepsPerEpoch, totalSteps } = length;
  const optimizer = new Optimizer(config.optimizer, runModel.decayable);
  let penalizedStep: ReturnType<typeof createPenalizedStep> | undefined;
  // a run that stops on an error releases its tensors too (a resume refused in-process must not
  // leave the optimizer's variables registered for the next run)
  try {
    penalizedStep = config.penalty.kind === 'none' ? undefined : createPenalizedStep(config, runModel);

    let state: TrainerState = {
      step: 0,
      metricsBytes: 0,
      window: { loss: 0, accuracy: 0, penalty: 0, penalized: 0, count: 0 },
      elapsed: 0,
      modelSignature: modelSignature(runModel.model),
    };
    let metrics: MetricsLog;
    const pointer = options.resume ? run.latestCheckpoint() : undefined;
    if (options.resume && !pointer)
      log(`${run.path} has no checkpoint yet (the first comes at the end of epoch 1): starting at step 0`);
    if (pointer) {
      const saved = await run.readCheckpoint(pointer);
      try {
        if (saved.state.modelSignature !== state.modelSignature) {
          throw new TrainingError(
            `checkpoint ${saved.dir} was made by another architecture (${saved.state.modelSignature}) than this config builds (${state.modelSignature}); resume with the config it was made with, or start a new --output`,
          );
        }
        copyCheckpointWeights(runModel, saved.model, saved.dir);
        // The optimizer's slots are named after the saved model's weights; this process may name
        // the same weights differently (tfjs numbers unnamed layers), so map them by position.
        const names = new Map(
          saved.model.weights.map((w, i) => [w.originalName, runModel.model.weights[i]!.originalName]),
        );
        const renamed = {
          ...saved.optimizer,
          slots: saved.optimizer.slots.map((s) => ({ ...s, weight: names.get(s.weight) ?? s.weight })),
        };
        optimizer.restore(renamed, runModel.model.trainableWeights, saved.dir);
      } catch (error) {
        throw error instanceof TrainingError ? error : new TrainingError((error as Error).message);
      } finally {
        saved.model.dispose();
      }
      state = saved.state;
      if (state.step > totalSteps) {
        throw new TrainingError(
          `${run.path} has trained ${state.step} steps already (epoch ${(state.step / stepsPerEpoch).toFixed(2)}), more than the ${totalSteps} that --epochs ${config.epochs} asks for; ask for at least ${Math.ceil(state.step / stepsPerEpoch)} epochs`,
        );
      }
      metrics = run.resumeMetrics({
        bytes: state.metricsBytes,
        step: state.step,
        ...(state.metricsSha256 ? { sha256: state.metricsSha256 } : {}),
      });
      log(`resumed at step ${state.step} from ${saved.dir}`);
    } else {
      metrics = run.createMetrics();
    }
    if (options.resume) run.writeConfig(config); // with the changes applied

    const commit = gitCommit();
    const meta: RunMeta = {
      id: run.id,
      name: config.name || run.id,
      status: 'running',
      startedAt: pointer && previousMeta?.startedAt ? previousMeta.startedAt : new Date().toISOString(),
      backend: backend.choice,
      versions,
      ...(commit ? { gitCommit: commit } : {}),
      step: state.step,
      ...(backend.native?.active && backend.native.threads !== undefined
        ? { nativeThreads: backend.native.threads }
        : {}),
      memoryCeiling: backend.memoryCeiling,
    };
    const configChanges = [
      ...(pointer ? (previousMeta?.configChanges ?? []) : []),
      ...(options.configChanges ?? []).map((c) => ({ ...c, step: state.step })),
    ];
    if (configChanges.length > 0) meta.configChanges = configChanges;
    run.writeMeta(meta);

    let lastCheckpointStep = pointer?.step;
    const clockStart = performance.now() - state.elapsed * 1000;
    const now = () => (performance.now() - clockStart) / 1000;
    const last: TrainOutcome['last'] = {};
    const figures: ProgressFigures = {};
    const epochOf = (step: number) => step / stepsPerEpoch;
    const record = (r: MetricRecord) => {
      metrics.append(r);
      if (r.kind === 'train') last.train = r;
      if (r.kind === 'eval') last.eval = r;
      if (r.kind === 'fisher') last.fisher = r;
      options.onRecord?.(r);
    };

    const checkpoint = async () => {
      metrics.sync();
      state.metricsBytes = metrics.bytes();
      state.elapsed = now();
      state.metricsSha256 = metrics.sha256();
      await run.writeCheckpoint({ state, model: runModel.model, optimizer: optimizer.snapshot() });
      lastCheckpointStep = state.step;
    };

    const track = async (step: number) => {
      const result = await measureFisherTrace(config, runModel, data, step);
      finiteOrThrow('Tr(F)', step, result.value);
      const r: FisherRecord = {
        kind: 'fisher',
        step,
        epoch: epochOf(step),
        time: now(),
        estimator: result.estimator,
        traceF: result.value,
        traceFStdErr: result.standardError,
        examples: result.examples,
      };
      record(r);
      figures.traceF = r.traceF;
      figures.traceFStdErr = r.traceFStdErr;
    };

    const evaluate = async (step: number) => {
      const evaluation: EvaluationResult = await evaluateSplit(runModel.model, data, config);
      const r: EvalRecord = { kind: 'eval', step, epoch: epochOf(step), time: now(), ...evaluation };
      record(r);
      figures.testAccuracy = r.testAccuracy;
      log(
        `epoch ${epochOf(step).toFixed(2)}  train ${pct(r.trainAccuracy)}  test ${pct(r.testAccuracy)}` +
          (r.trainNoisyAccuracy !== undefined
            ? `  clean ${pct(r.trainCleanAccuracy)}  noisy ${pct(r.trainNoisyAccuracy)}`
            : '') +
          (figures.traceF !== undefined ? `  Tr(F) ${figures.traceF.toPrecision(4)}` : ''),
      );
    };

    let status: RunMeta['status'] = 'completed';
    let error: RunMeta['error'];
    let stepsThisCall = 0;
    const finish = () => {
      metrics.sync();
      metrics.close();
      run.updateMeta({
        status,
        step: state.step,
        endedAt: new Date().toISOString(),
        ...(error ? { error } : {}),
      });
    };
    try {
      if (state.step === 0) {
        if (isTrackingStep(config, 0, stepsPerEpoch)) await track(0);
        await evaluate(0);
      }
      while (state.step < totalSteps) {
        await yieldToEventLoop();
        run.beat();
        if (
          options.signal?.aborted ||
          (options.stopAfterSteps !== undefined && stepsThisCall >= options.stopAfterSteps)
        ) {
          await checkpoint();
          status = 'interrupted';
          break;
        }
        const step = state.step; // steps completed before this one
        const batch: TensorBatch = data.trainBatch(step, stepsPerEpoch);
        const lr = learningRateAt(
          config.optimizer.lr,
          config.schedule,
          epochOf(step),
          totalSteps / stepsPerEpoch,
        );
        let result: StepResult;
        try {
          const stepWithPenalty = penalizedStep;
          const penalize = stepWithPenalty !== undefined && isPenalizedStep(config, step);
          result = penalize
            ? stepWithPenalty(batch.x, batch.y, step)
            : plainStep(runModel.model, batch.x, batch.y);
        } finally {
          tf.dispose([batch.x, batch.y]);
        }
        try {
          finiteOrThrow('loss', step + 1, result.loss);
          if (result.penalty !== null) finiteOrThrow('penalty', step + 1, result.penalty);
          finiteOrThrow('gradient', step + 1, result.gradNormSquared);
          optimizer.apply(runModel.model.trainableWeights, result.grads, lr);
        } finally {
          tf.dispose(Object.values(result.grads));
        }
        state.step = step + 1;
        stepsThisCall += 1;
        const w = state.window;
        w.loss += result.loss;
        w.accuracy += result.accuracy;
        if (result.penalty !== null) {
          w.penalty += result.penalty;
          w.penalized += 1;
        }
        w.count += 1;
        figures.loss = result.loss;
        figures.accuracy = result.accuracy;
        if (result.penalty !== null) figures.penalty = result.penalty;

        const due = eventsAfterStep(config, state.step, length);
        if (due.log) {
          record({
            kind: 'train',
            step: state.step,
            epoch: epochOf(state.step),
            time: now(),
            lr,
            loss: w.loss / w.count,
            accuracy: w.accuracy / w.count,
            penalty: w.penalized > 0 ? w.penalty / w.penalized : null,
          });
          state.window = { loss: 0, accuracy: 0, penalty: 0, penalized: 0, count: 0 };
        }
        if (due.trace) await track(state.step);
        if (due.evaluate) await evaluate(state.step);
        if (due.curvature) {
          const c = await measureCurvature(config, runModel, data, state.step);
          const r: CurvatureRecord = {
            kind: 'curvature',
            step: state.step,
            epoch: epochOf(state.step),
            time: now(),
            ...c,
          };
          record(r);
        }
        if (due.checkpoint) {
          await checkpoint();
        }
        options.onProgress?.({ step: state.step, totalSteps, epoch: epochOf(state.step), figures });
      }
    } catch (caught) {
      if (caught instanceof Divergence) {
        status = 'diverged';
        error = { message: caught.message, step: caught.step, quantity: caught.quantity };
        log(
          `diverged: ${caught.message}; ` +
            (lastCheckpointStep === undefined
              ? 'it diverged before its first checkpoint, so there is none to keep; its records up to then are in metrics.jsonl'
              : `the last good checkpoint (step ${lastCheckpointStep}) is kept`),
        );
      } else {
        status = 'failed';
        error = { message: caught instanceof Error ? caught.message : String(caught), step: state.step };
        finish();
        throw caught;
      }
    }
    finish();
    return { status, runDir: run.path, steps: state.step, last, ...(error ? { error } : {}) };
  } finally {
    runModel.dispose();
    optimizer.dispose();
    penalizedStep?.dispose?.();
    data.dispose();
  }
}

const pct = (x: number | undefined) => (x === undefined ? '-' : `${(100 * x).toFixed(1)}%`);

/**
 * The native tier runs with FISHERLAB_NATIVE_THREADS threads, and a resumed run with the count it
 * started with (recorded in meta.json): oneDNN splits reductions by the thread count, so another
 * count changes the last digits and the run would no longer match an uninterrupted one.
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
 * FISHERLAB_BACKEND or FISHERLAB_NATIVE) is an environment problem the caller fixes.
 */
export async function startBackend(request?: BackendRequest): Promise<BackendReport> {
  try {
    // 'auto' (a spec's default) leaves the choice to initBackend, which honours FISHERLAB_BACKEND.
    return await initBackend(request === undefined || request === 'auto' ? {} : { backend: request });
  } catch (error) {
    throw new TrainingError(
      `${(error as Error).message}; \`fisherlab doctor\` (or initBackend's report) shows what each backend needs`,
    );
  }
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

/**
 * Lets the event loop run pending callbacks (abort signals, timers such as the lock's heartbeat)
 * between steps: a training step is synchronous, so without this they wait for the next I/O.
 */
const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
