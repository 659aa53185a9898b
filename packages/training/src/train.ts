import type { tf } from '@fisherlab/engine';
import type { MetricRecord } from '@fisherlab/storage';
import { runSettings, startRunBackend } from './backend-settings.js';
import type { CheckpointPhase, TrainerState } from './checkpoint.js';
import { prepareData } from './data.js';
import { RunDirectoryError, TrainingError } from './errors.js';
import { runLength } from './events.js';
import { createPenalizedStep } from './measurements.js';
import {
  buildRunModel,
  copyCheckpointWeights,
  customRunModel,
  type ModelInputs,
  modelSignature,
} from './model.js';
import { Optimizer } from './optimizer.js';
import { RunDirectory, type StartPlan } from './run-directory.js';
import type { HeldLock } from './run-lock.js';
import { type SessionParts, TrainingSession, type TrainOutcome, type TrainProgress } from './session.js';
import { parseRunConfig, type RunConfig, type RunConfigInput } from './spec.js';

export type { ProgressFigures, TrainOutcome, TrainProgress } from './session.js';

export interface TrainOptions {
  /**
   * Continue the run in spec.output from its newest checkpoint. The spec must be the run's own
   * (config.json) but for RESUME_SAFE_KEYS (epochs); a change to any other key is refused
   * (ResumeRefusedError) and an allowed one is recorded in meta.json's `resumes`.
   */
  resume?: boolean;
  /**
   * Replace an earlier attempt's records: a fresh run into a directory that holds records,
   * checkpoints or a finished run, or a resume that finds records but no checkpoint (it starts over
   * at step 0). Without it both are refused and nothing is changed.
   */
  overwrite?: boolean;
  /** Called with every record as it is appended to metrics.jsonl. */
  onRecord?: (record: MetricRecord) => void;
  /** Called after every completed step. */
  onProgress?: (progress: TrainProgress) => void;
  /** Lines a person would want to read (evaluations, resumes, recovered checkpoints, divergence); default: none. */
  log?: (message: string) => void;
  /**
   * Aborting it stops the run, at any moment: during start-up nothing more is written (the
   * directory is as it was, or, for a fresh run, nothing is left); once training, at the next step
   * boundary, after a checkpoint. The outcome is 'interrupted' (train again with resume: true to
   * continue, to the same numbers).
   */
  signal?: AbortSignal;
  /** The run's lock, when the caller already holds it (sweep workers, from lockRun); otherwise train takes it. */
  lock?: HeldLock;
  /** Extra entries for meta.json's `versions` (e.g. the calling tool's own version). */
  versions?: Record<string, string>;
  /**
   * Trains a model of your own (any LayersModel that outputs logits) instead of the zoo's
   * `spec.model`; config.json then records `model.arch: 'custom'`. Called once per train() call,
   * so a resume must build the same architecture (the checkpoint is checked against it).
   */
  model?: (inputs: ModelInputs) => tf.LayersModel;
}

/** Hooks for this package's own tests, not part of the public options. */
export interface TrainTestHooks {
  /** Called after each phase of every checkpoint write (a test stops the write there by throwing). */
  onCheckpointPhase?: (phase: CheckpointPhase) => void;
}

/**
 * Trains one run described by `spec` (a run config; defaults filled in, unknown keys refused),
 * writing config.json, meta.json, metrics.jsonl and checkpoints into `spec.output`, and returns
 * how it ended: 'completed', 'diverged' (a non-finite loss, gradient, penalty or Tr(F); the last
 * good checkpoint is kept) or 'interrupted' (aborted). Errors a caller can fix throw TrainingError
 * or a subclass with the facts as fields. Deterministic given the seed on one backend: every
 * random choice is drawn from a stream derived from (seed, purpose, step) (see STREAM), so a
 * resumed run replays the same choices and ends with the same numbers as one never stopped.
 */
export function train(spec: RunConfigInput | RunConfig, options: TrainOptions = {}): Promise<TrainOutcome> {
  return trainWithHooks(spec, options, {});
}

/** train() with this package's test hooks. */
export async function trainWithHooks(
  spec: RunConfigInput | RunConfig,
  options: TrainOptions,
  hooks: TrainTestHooks,
): Promise<TrainOutcome> {
  let config = parseRunConfig(spec, 'spec');
  if (options.model) config = { ...config, model: { arch: 'custom', options: {} } };
  const run = RunDirectory.open(config.output, options.lock);
  try {
    return await trainIn(run, config, options, hooks);
  } finally {
    run.release();
  }
}

async function trainIn(
  run: RunDirectory,
  config: RunConfig,
  options: TrainOptions,
  hooks: TrainTestHooks,
): Promise<TrainOutcome> {
  const log = options.log ?? (() => {});
  const stopRequested = () => options.signal?.aborted === true;
  const plan = run.plan(config, options.resume === true, options.overwrite === true, log);
  const untouched = (): TrainOutcome => ({
    status: 'interrupted',
    runDir: run.path,
    steps: plan.checkpoint?.step ?? 0,
    last: {},
  });
  if (stopRequested()) return untouched();
  const backend = await startRunBackend(plan, log);
  const settings = runSettings(backend, options.versions);
  if (stopRequested()) return untouched();
  let parts: SessionParts;
  try {
    parts = await buildParts(config, options);
  } catch (error) {
    // a directory without meta.json reads as "never started": leave a record that says why
    run.recordStartFailure(plan, settings, error instanceof Error ? error.message : String(error));
    throw error;
  }
  // a run that stops on an error releases its tensors too (a resume refused in-process must not
  // leave the optimizer's variables registered for the next run)
  try {
    if (stopRequested()) return untouched();
    const state = await restoreCheckpoint(run, plan, parts);
    if (stopRequested()) return untouched();
    const metrics = run.begin(plan, settings, state);
    const restoredFrom = plan.checkpoint ? { step: state.step, metricsBytes: state.metricsBytes } : undefined;
    const session = new TrainingSession(
      run,
      parts,
      state,
      metrics,
      { ...options, log, stopRequested, ...hooks },
      restoredFrom,
    );
    return await session.train();
  } finally {
    disposeParts(parts);
  }
}

/** The data, the model, the optimizer and the penalized step a run trains with. */
async function buildParts(config: RunConfig, options: TrainOptions): Promise<SessionParts> {
  const data = await prepareData(config);
  const built: Partial<SessionParts> = { config, data, length: runLength(config, data.train.count) };
  try {
    built.runModel = options.model ? customRunModel(options.model, data) : buildRunModel(config, data);
    built.optimizer = new Optimizer(config.optimizer, built.runModel.decayable);
    built.penalizedStep =
      config.penalty.kind === 'none' ? undefined : createPenalizedStep(config, built.runModel);
    return built as SessionParts;
  } catch (error) {
    disposeParts(built);
    throw error;
  }
}

function disposeParts(parts: Partial<SessionParts>): void {
  parts.runModel?.dispose();
  parts.optimizer?.dispose();
  parts.penalizedStep?.dispose?.();
  parts.data?.dispose();
}

/**
 * The state a run starts from: step 0, or the plan's checkpoint loaded into the model and the
 * optimizer (refused when it was made by another architecture, or is past the spec's last step).
 */
async function restoreCheckpoint(
  run: RunDirectory,
  plan: StartPlan,
  parts: SessionParts,
): Promise<TrainerState> {
  const { runModel, optimizer, length, config } = parts;
  const fresh: TrainerState = {
    step: 0,
    metricsBytes: 0,
    window: { loss: 0, accuracy: 0, penalty: 0, penalized: 0, count: 0 },
    elapsed: 0,
    modelSignature: modelSignature(runModel.model),
  };
  if (!plan.checkpoint) return fresh;
  const saved = await run.readCheckpoint(plan.checkpoint);
  try {
    if (saved.state.modelSignature !== fresh.modelSignature) {
      throw new TrainingError(
        `checkpoint ${saved.dir} was made by another architecture (${saved.state.modelSignature}) than this config builds (${fresh.modelSignature}); resume with the config it was made with, or train into another output directory`,
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
  const { stepsPerEpoch, totalSteps } = length;
  if (saved.state.step > totalSteps) {
    const needed = Math.ceil(saved.state.step / stepsPerEpoch);
    throw new RunDirectoryError(
      run.path,
      'beyond-epochs',
      `${run.path} has trained ${saved.state.step} steps already (epoch ${(saved.state.step / stepsPerEpoch).toFixed(2)}), more than the ${totalSteps} that epochs: ${config.epochs} asks for; ask for at least ${needed} epochs`,
      { expected: `at most ${totalSteps} steps`, found: `${saved.state.step} steps` },
    );
  }
  return saved.state;
}
