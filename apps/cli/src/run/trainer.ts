import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import type {
  CurvatureRecord,
  EvalRecord,
  FisherRecord,
  MetricRecord,
  RunMeta,
  TrainRecord,
} from '@fisherlab/analysis';
import {
  type BackendReport,
  nativeModeFromEnv,
  nativeThreadsFromEnv,
  setUpNativeTier,
  tf,
} from '@fisherlab/engine';
import type { RunConfig } from '../config/schema.js';
import { EXIT, UserError } from '../errors.js';
import { startBackend } from './backend.js';
import { latestCheckpoint, readCheckpoint, type TrainerState, writeCheckpoint } from './checkpoint.js';
import {
  type EvaluationResult,
  evaluateSplit,
  type PreparedData,
  prepareData,
  type TensorBatch,
} from './data.js';
import { ensureDirectory, WriteError, writeJsonAtomic } from './files.js';
import { createPenalizedStep, measureCurvature, measureFisherTrace } from './fisher.js';
import { MetricsLog } from './metrics-log.js';
import { buildRunModel, loadRunModelWeights, modelSignature, type RunModel, saveRunModel } from './model.js';
import { plainStep, type StepResult } from './objective.js';
import { Optimizer } from './optimizer.js';
import { createProgress, type ProgressFigures, type ProgressSink } from './progress.js';
import { type HeldLock, lockRun } from './run-lock.js';
import { learningRateAt } from './schedule.js';
import { type StopSignals, watchStopSignals, yieldToEventLoop } from './stop-signals.js';
import { collectVersions, gitCommit } from './versions.js';

/** Names of the independent random streams, each derived from (seed, stream, step). */
export const STREAM = {
  init: 1,
  shuffle: 2,
  augment: 3,
  noise: 4,
  penaltyLabels: 5,
  traceLabels: 6,
  trackSubset: 7,
  curvature: 8,
} as const;

export interface TrainOptions {
  /** Continue the run in config.output from its latest checkpoint. */
  resume?: boolean;
  progress?: ProgressSink;
  /** Stop after this many steps in this process (tests), checkpointing as on a signal. */
  stopAfterSteps?: number;
  /** Install SIGINT/SIGTERM handlers that checkpoint and stop (default true). */
  handleSignals?: boolean;
  /** Called after every completed step (tests sample live tensors with it). */
  onStep?: (step: number) => void;
  /** The run's lock, when the caller holds it (sweep workers); otherwise trainRun takes it. */
  lock?: HeldLock;
  /** Config keys a resume changed (only those safe to change), recorded in meta.json. */
  configChanges?: ConfigChange[];
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
  exitCode: number;
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

/** Total steps and steps per epoch for a config and a training-set size. */
export function runLength(
  config: RunConfig,
  trainCount: number,
): { stepsPerEpoch: number; totalSteps: number } {
  const stepsPerEpoch = Math.ceil(trainCount / config.batchSize);
  const totalSteps = config.steps ?? (config.epochs ?? 1) * stepsPerEpoch;
  return { stepsPerEpoch, totalSteps };
}

/** Whether Tr(F) is measured after `step` steps (step 0 = before training). */
export function isTrackingStep(config: RunConfig, step: number, stepsPerEpoch: number): boolean {
  const t = config.tracking;
  if (t.subset === 0) return false;
  if (step === 0) return true;
  if (step < t.earlyEpochs * stepsPerEpoch) return step % t.earlyEvery === 0;
  return step % t.every === 0;
}

/**
 * Trains one run described by `config`, writing config.json, meta.json, metrics.jsonl and
 * checkpoints into `config.output`. Deterministic given the seed on one backend: every random
 * choice is drawn from a stream derived from (seed, purpose, step), so a resumed run replays the
 * same choices without carrying generator states.
 */
export async function trainRun(config: RunConfig, options: TrainOptions = {}): Promise<TrainOutcome> {
  const runDir = path.resolve(config.output);
  try {
    ensureDirectory(runDir);
  } catch (error) {
    if (error instanceof WriteError) throw new UserError(`${error.message}; choose another --output`);
    throw error;
  }
  const lock = options.lock ?? lockRun(runDir);
  try {
    return await trainLocked(config, runDir, lock, options);
  } finally {
    if (!options.lock) lock.release();
  }
}

async function trainLocked(
  config: RunConfig,
  runDir: string,
  lock: HeldLock,
  options: TrainOptions,
): Promise<TrainOutcome> {
  let backend = await startBackend(config.backend);
  const progress = options.progress ?? createProgress(config.name || path.basename(runDir));
  const previousMeta = options.resume ? readPreviousMeta(runDir) : undefined;
  prepareRunDirectory(runDir, config, Boolean(options.resume), progress);
  backend = settleNativeThreads(backend, previousMeta, progress);

  let data: PreparedData;
  let runModel: RunModel;
  try {
    data = await prepareData(config);
    runModel = buildRunModel(config, data);
  } catch (error) {
    // Leave a record that says why: a run directory without meta.json reads as "never started".
    writeJsonAtomic(path.join(runDir, 'meta.json'), {
      id: path.basename(runDir),
      name: config.name || path.basename(runDir),
      status: 'failed',
      startedAt: new Date().toISOString(),
      endedAt: new Date().toISOString(),
      backend: backend.choice,
      versions: collectVersions(backend),
      error: { message: error instanceof Error ? error.message : String(error), step: 0 },
    } satisfies RunMeta);
    throw error;
  }
  const { stepsPerEpoch, totalSteps } = runLength(config, data.train.count);
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
    const pointer = options.resume ? latestCheckpoint(runDir) : undefined;
    if (options.resume && !pointer)
      progress.log(
        `${runDir} has no checkpoint yet (the first comes at the end of epoch 1): starting at step 0`,
      );
    if (pointer) {
      const saved = readCheckpoint(runDir, pointer);
      if (saved.state.modelSignature !== state.modelSignature) {
        throw new UserError(
          `checkpoint ${saved.dir} was made by another architecture (${saved.state.modelSignature}) than this config builds (${state.modelSignature}); resume with the config it was made with, or start a new --output`,
        );
      }
      await loadRunModelWeights(runModel, saved.dir);
      optimizer.setState(saved.optimizer);
      state = saved.state;
      if (state.step > totalSteps) {
        throw new UserError(
          `${runDir} has trained ${state.step} steps already (epoch ${(state.step / stepsPerEpoch).toFixed(2)}), more than the ${totalSteps} that --epochs ${config.epochs} asks for; ask for at least ${Math.ceil(state.step / stepsPerEpoch)} epochs`,
        );
      }
      metrics = MetricsLog.resume(path.join(runDir, 'metrics.jsonl'), {
        bytes: state.metricsBytes,
        step: state.step,
        ...(state.metricsSha256 ? { sha256: state.metricsSha256 } : {}),
      });
      progress.log(`resumed at step ${state.step} from ${saved.dir}`);
    } else {
      metrics = MetricsLog.create(path.join(runDir, 'metrics.jsonl'));
    }
    if (options.resume) writeJsonAtomic(path.join(runDir, 'config.json'), config); // with the changes applied

    const meta: RunMeta = {
      id: path.basename(runDir),
      name: config.name || path.basename(runDir),
      status: 'running',
      startedAt: new Date().toISOString(),
      backend: backend.choice,
      versions: collectVersions(backend),
      ...(gitCommit() ? { gitCommit: gitCommit()! } : {}),
      step: state.step,
      ...(backend.native?.active && backend.native.threads !== undefined
        ? { nativeThreads: backend.native.threads }
        : {}),
    };
    if (pointer && previousMeta?.startedAt) meta.startedAt = previousMeta.startedAt;
    const configChanges = [
      ...(pointer ? (previousMeta?.configChanges ?? []) : []),
      ...(options.configChanges ?? []).map((c) => ({ ...c, step: state.step })),
    ];
    if (configChanges.length > 0) meta.configChanges = configChanges;
    writeJsonAtomic(path.join(runDir, 'meta.json'), meta);

    const signals: StopSignals | undefined =
      options.handleSignals !== false ? watchStopSignals({ say: (m) => progress.log(m) }) : undefined;
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
    };

    const checkpoint = async () => {
      metrics.sync();
      state.metricsBytes = metrics.bytes();
      state.elapsed = now();
      state.metricsSha256 = metrics.sha256();
      await writeCheckpoint(runDir, {
        state,
        optimizer: await optimizer.getState(),
        saveModel: (dir) => saveRunModel(runModel, dir),
      });
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
      progress.log(
        `epoch ${epochOf(step).toFixed(2)}  train ${pct(r.trainAccuracy)}  test ${pct(r.testAccuracy)}` +
          (r.trainNoisyAccuracy !== undefined
            ? `  clean ${pct(r.trainCleanAccuracy)}  noisy ${pct(r.trainNoisyAccuracy)}`
            : '') +
          (figures.traceF !== undefined ? `  Tr(F) ${figures.traceF.toPrecision(4)}` : ''),
      );
    };

    let status: RunMeta['status'] = 'completed';
    let error: RunMeta['error'];
    let stepsThisProcess = 0;
    try {
      if (state.step === 0) {
        if (isTrackingStep(config, 0, stepsPerEpoch)) await track(0);
        await evaluate(0);
      }
      while (state.step < totalSteps) {
        await yieldToEventLoop();
        lock.beat();
        if (
          signals?.requested ||
          (options.stopAfterSteps !== undefined && stepsThisProcess >= options.stopAfterSteps)
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
          const penalize = stepWithPenalty !== undefined && step % config.penalty.every === 0;
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
        stepsThisProcess += 1;
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

        const endOfEpoch = state.step % stepsPerEpoch === 0 || state.step === totalSteps;
        if (state.step % config.logEvery === 0 || endOfEpoch) {
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
        if (isTrackingStep(config, state.step, stepsPerEpoch)) await track(state.step);
        if (endOfEpoch) {
          const epoch = Math.round(epochOf(state.step));
          if (epoch % config.evaluation.everyEpochs === 0 || state.step === totalSteps)
            await evaluate(state.step);
          const every = config.tracking.curvatureEveryEpochs;
          if (every > 0 && (epoch % every === 0 || state.step === totalSteps)) {
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
          await checkpoint();
        }
        progress.update(state.step, totalSteps, epochOf(state.step), figures);
        options.onStep?.(state.step);
      }
    } catch (caught) {
      if (caught instanceof Divergence) {
        status = 'diverged';
        error = { message: caught.message, step: caught.step, quantity: caught.quantity };
        progress.log(
          `diverged: ${caught.message}; ` +
            (lastCheckpointStep === undefined
              ? 'it diverged before its first checkpoint, so there is none to keep; its records up to then are in metrics.jsonl'
              : `the last good checkpoint (step ${lastCheckpointStep}) is kept`),
        );
      } else {
        status = 'failed';
        error = { message: caught instanceof Error ? caught.message : String(caught), step: state.step };
        finish(runDir, meta, status, error, state.step, metrics, signals, progress);
        throw caught;
      }
    }
    finish(runDir, meta, status, error, state.step, metrics, signals, progress);
    const exitCode =
      status === 'completed' ? EXIT.ok : status === 'diverged' ? EXIT.diverged : EXIT.interrupted;
    return { status, exitCode, runDir, steps: state.step, last, ...(error ? { error } : {}) };
  } finally {
    runModel.dispose();
    optimizer.dispose();
    penalizedStep?.dispose?.();
    data.dispose();
  }
}

const pct = (x: number | undefined) => (x === undefined ? '-' : `${(100 * x).toFixed(1)}%`);

function finish(
  runDir: string,
  meta: RunMeta,
  status: RunMeta['status'],
  error: RunMeta['error'],
  step: number,
  metrics: MetricsLog,
  signals: StopSignals | undefined,
  progress: ProgressSink,
): void {
  metrics.sync();
  metrics.close();
  signals?.dispose();
  progress.done();
  writeJsonAtomic(path.join(runDir, 'meta.json'), {
    ...meta,
    status,
    step,
    endedAt: new Date().toISOString(),
    ...(error ? { error } : {}),
  } satisfies RunMeta);
}

function readPreviousMeta(runDir: string): RunMeta | undefined {
  try {
    return JSON.parse(readFileSync(path.join(runDir, 'meta.json'), 'utf8')) as RunMeta;
  } catch {
    return undefined;
  }
}

/** Files of an attempt; removed when a run that left no checkpoint is started over. */
export const ATTEMPT_FILES = ['meta.json', 'metrics.jsonl', 'config.json', 'checkpoint.json', 'checkpoints'];

/**
 * Writes config.json into the (locked) run directory. A fresh run refuses a directory that holds a
 * finished run or a checkpoint (its results would be overwritten; --resume continues it), and
 * starts over where an earlier attempt stopped before its first checkpoint (a failed first start).
 * A resume needs config.json, and rewrites it when the command changed safe keys.
 */
export function prepareRunDirectory(
  runDir: string,
  config: RunConfig,
  resume: boolean,
  progress?: ProgressSink,
): void {
  const configFile = path.join(runDir, 'config.json');
  if (resume) {
    if (!existsSync(configFile)) {
      throw new UserError(
        `cannot resume: ${runDir} holds no run (no config.json); start it without --resume`,
      );
    }
    return;
  }
  if (ATTEMPT_FILES.some((f) => existsSync(path.join(runDir, f)))) {
    const previous = readPreviousMeta(runDir);
    if (previous?.status === 'completed' || previous?.status === 'diverged') {
      throw new UserError(
        `${runDir} holds a ${previous.status} run; choose another --output (a finished run is never overwritten)`,
      );
    }
    if (existsSync(path.join(runDir, 'checkpoint.json'))) {
      throw new UserError(
        `${runDir} already holds a run with a checkpoint; use --resume ${runDir} to continue it, or choose another --output (nothing was overwritten)`,
      );
    }
    progress?.log(
      `${runDir}: the previous attempt (${previous?.status ?? 'no status recorded'}) left no checkpoint; starting over`,
    );
    for (const f of ATTEMPT_FILES) rmSync(path.join(runDir, f), { recursive: true, force: true });
  }
  writeJsonAtomic(configFile, config);
}

/**
 * The native tier runs with FISHERLAB_NATIVE_THREADS threads, and a resumed run with the count it
 * started with (recorded in meta.json): oneDNN splits reductions by the thread count, so another
 * count changes the last digits and the run would no longer match an uninterrupted one.
 */
function settleNativeThreads(
  backend: BackendReport,
  previous: RunMeta | undefined,
  progress: ProgressSink,
): BackendReport {
  if (!backend.native?.active) return backend;
  const requested = nativeThreadsFromEnv();
  const recorded = previous?.nativeThreads;
  if (recorded !== undefined && recorded !== requested)
    progress.log(
      `native tier: ${recorded} threads, as when this run started (${requested} requested now), so it continues exactly`,
    );
  return { ...backend, native: setUpNativeTier(nativeModeFromEnv(), recorded ?? requested) };
}

export type { BackendReport, PreparedData, RunModel };
