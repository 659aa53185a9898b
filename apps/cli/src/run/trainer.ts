import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type {
  CurvatureRecord,
  EvalRecord,
  FisherRecord,
  MetricRecord,
  RunMeta,
  TrainRecord,
} from '@fisherlab/analysis';
import { type BackendReport, initBackend, tf } from '@fisherlab/engine';
import type { RunConfig } from '../config/schema.js';
import { EXIT, UserError } from '../errors.js';
import { latestCheckpoint, readCheckpoint, type TrainerState, writeCheckpoint } from './checkpoint.js';
import {
  type EvaluationResult,
  evaluateSplit,
  type PreparedData,
  prepareData,
  type TensorBatch,
} from './data.js';
import { writeJsonAtomic } from './files.js';
import { createPenalizedStep, measureCurvature, measureFisherTrace } from './fisher.js';
import { MetricsLog } from './metrics-log.js';
import { buildRunModel, loadRunModelWeights, modelSignature, type RunModel, saveRunModel } from './model.js';
import { plainStep, type StepResult } from './objective.js';
import { Optimizer } from './optimizer.js';
import { createProgress, type ProgressFigures, type ProgressSink } from './progress.js';
import { learningRateAt } from './schedule.js';
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
  const backend = await initBackend({ backend: config.backend });
  const progress = options.progress ?? createProgress(config.name || path.basename(runDir));
  prepareRunDirectory(runDir, config, Boolean(options.resume));

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
  const penalizedStep = config.penalty.kind === 'none' ? undefined : createPenalizedStep(config, runModel);

  let state: TrainerState = {
    step: 0,
    metricsBytes: 0,
    window: { loss: 0, accuracy: 0, penalty: 0, penalized: 0, count: 0 },
    elapsed: 0,
    modelSignature: modelSignature(runModel.model),
  };
  let metrics: MetricsLog;
  const pointer = options.resume ? latestCheckpoint(runDir) : undefined;
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
    metrics = MetricsLog.resume(path.join(runDir, 'metrics.jsonl'), state.metricsBytes);
    progress.log(`resumed at step ${state.step} from ${saved.dir}`);
  } else {
    metrics = MetricsLog.create(path.join(runDir, 'metrics.jsonl'));
  }

  const meta: RunMeta = {
    id: path.basename(runDir),
    name: config.name || path.basename(runDir),
    status: 'running',
    startedAt: new Date().toISOString(),
    backend: backend.choice,
    versions: collectVersions(backend),
    ...(gitCommit() ? { gitCommit: gitCommit()! } : {}),
    step: state.step,
  };
  if (pointer) {
    const previous = readPreviousMeta(runDir);
    if (previous?.startedAt) meta.startedAt = previous.startedAt;
  }
  writeJsonAtomic(path.join(runDir, 'meta.json'), meta);

  let stopRequested: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    stopRequested = signal;
  };
  if (options.handleSignals !== false) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }

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
    await writeCheckpoint(runDir, {
      state,
      optimizer: await optimizer.getState(),
      saveModel: (dir) => saveRunModel(runModel, dir),
    });
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
      if (
        stopRequested ||
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
        const penalize = penalizedStep !== undefined && step % config.penalty.every === 0;
        result = penalize
          ? penalizedStep(batch.x, batch.y, step)
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
      progress.log(`diverged: ${caught.message}; the last good checkpoint is kept`);
    } else {
      status = 'failed';
      error = { message: caught instanceof Error ? caught.message : String(caught), step: state.step };
      finish(runDir, meta, status, error, state.step, metrics, options, onSignal, progress);
      throw caught;
    }
  }
  finish(runDir, meta, status, error, state.step, metrics, options, onSignal, progress);
  runModel.dispose();
  optimizer.dispose();
  penalizedStep?.dispose?.();
  data.dispose();
  const exitCode =
    status === 'completed' ? EXIT.ok : status === 'diverged' ? EXIT.diverged : EXIT.interrupted;
  return { status, exitCode, runDir, steps: state.step, last, ...(error ? { error } : {}) };
}

const pct = (x: number | undefined) => (x === undefined ? '-' : `${(100 * x).toFixed(1)}%`);

function finish(
  runDir: string,
  meta: RunMeta,
  status: RunMeta['status'],
  error: RunMeta['error'],
  step: number,
  metrics: MetricsLog,
  options: TrainOptions,
  onSignal: (s: NodeJS.Signals) => void,
  progress: ProgressSink,
): void {
  metrics.sync();
  metrics.close();
  if (options.handleSignals !== false) {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
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

/**
 * Creates the run directory and writes config.json. A fresh run refuses a directory that already
 * holds a run (its results would be overwritten); a resume refuses a config that differs.
 */
export function prepareRunDirectory(runDir: string, config: RunConfig, resume: boolean): void {
  const configFile = path.join(runDir, 'config.json');
  if (resume) {
    if (!existsSync(configFile)) {
      throw new UserError(
        `cannot resume: ${runDir} holds no run (no config.json); start it without --resume`,
      );
    }
    return;
  }
  if (existsSync(path.join(runDir, 'metrics.jsonl')) || existsSync(path.join(runDir, 'meta.json'))) {
    throw new UserError(
      `${runDir} already holds a run; use --resume to continue it, or choose another --output (nothing was overwritten)`,
    );
  }
  try {
    mkdirSync(runDir, { recursive: true });
  } catch (error) {
    throw new UserError(
      `cannot create run directory ${runDir}: ${(error as Error).message}; choose a writable --output`,
    );
  }
  writeJsonAtomic(configFile, config);
}

export type { BackendReport, PreparedData, RunModel };
