import { tf } from '@fisherlab/engine';
import type {
  CurvatureRecord,
  EvalRecord,
  FisherRecord,
  MetricRecord,
  RunMeta,
  TrainRecord,
} from '@fisherlab/storage';
import type { CheckpointPhase, TrainerState } from './checkpoint.js';
import { evaluateSplit, type PreparedData } from './data.js';
import { eventsAfterStep, isPenalizedStep, isTrackingStep, type RunLength } from './events.js';
import { type createPenalizedStep, measureCurvature, measureFisherTrace } from './measurements.js';
import type { MetricsLog } from './metrics-log.js';
import type { RunModel } from './model.js';
import { plainStep, type StepResult } from './objective.js';
import type { Optimizer } from './optimizer.js';
import type { RunDirectory } from './run-directory.js';
import { learningRateAt } from './schedule.js';
import type { RunConfig } from './spec.js';

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

export interface TrainOutcome {
  status: RunMeta['status'];
  runDir: string;
  steps: number;
  last: { train?: TrainRecord; eval?: EvalRecord; fisher?: FisherRecord };
  error?: RunMeta['error'];
}

/** What a session reports to its caller, and when it stops. */
export interface SessionHooks {
  onRecord?: (record: MetricRecord) => void;
  onProgress?: (progress: TrainProgress) => void;
  log: (message: string) => void;
  /** True when the run is to stop at the next step boundary (checkpointing first). */
  stopRequested: () => boolean;
  onCheckpointPhase?: (phase: CheckpointPhase) => void;
}

/** The parts a run trains with, built before the session starts. */
export interface SessionParts {
  config: RunConfig;
  length: RunLength;
  data: PreparedData;
  runModel: RunModel;
  optimizer: Optimizer;
  penalizedStep: ReturnType<typeof createPenalizedStep> | undefined;
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

const pct = (x: number | undefined) => (x === undefined ? '-' : `${(100 * x).toFixed(1)}%`);

/**
 * Lets the event loop run pending callbacks (abort signals, timers such as the lock's heartbeat)
 * between steps: a training step is synchronous, so without this they wait for the next I/O.
 */
const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** One attempt at a run, from begin() to its end: the training loop and what it records. */
export class TrainingSession {
  private readonly last: TrainOutcome['last'] = {};
  private readonly figures: ProgressFigures = {};
  private readonly clockStart: number;
  /** The checkpoint that holds this session's state so far (step and metrics length), if any. */
  private saved: { step: number; metricsBytes: number } | undefined;

  constructor(
    private readonly run: RunDirectory,
    private readonly parts: SessionParts,
    private readonly state: TrainerState,
    private readonly metrics: MetricsLog,
    private readonly hooks: SessionHooks,
    restoredFrom: { step: number; metricsBytes: number } | undefined,
  ) {
    this.clockStart = performance.now() - state.elapsed * 1000;
    this.saved = restoredFrom;
  }

  /** Trains to the end of the run, or until a stop is requested or it diverges. */
  async train(): Promise<TrainOutcome> {
    const { totalSteps } = this.parts.length;
    try {
      if (this.state.step === 0 && !this.hooks.stopRequested()) await this.measureStart();
      while (this.state.step < totalSteps) {
        await yieldToEventLoop();
        this.run.beat();
        if (this.hooks.stopRequested()) {
          await this.checkpoint();
          return this.end('interrupted');
        }
        const lr = this.trainStep();
        await this.recordDueEvents(lr);
        this.hooks.onProgress?.({
          step: this.state.step,
          totalSteps,
          epoch: this.epochOf(this.state.step),
          figures: this.figures,
        });
      }
      return this.end('completed');
    } catch (caught) {
      if (caught instanceof Divergence) return this.diverged(caught);
      this.end('failed', {
        message: caught instanceof Error ? caught.message : String(caught),
        step: this.state.step,
      });
      throw caught;
    }
  }

  private epochOf(step: number): number {
    return step / this.parts.length.stepsPerEpoch;
  }

  private now(): number {
    return (performance.now() - this.clockStart) / 1000;
  }

  /** One optimizer step on the next batch; returns its learning rate. */
  private trainStep(): number {
    const { config, data, runModel, optimizer, penalizedStep, length } = this.parts;
    const step = this.state.step; // steps completed before this one
    const batch = data.trainBatch(step, length.stepsPerEpoch);
    const lr = learningRateAt(
      config.optimizer.lr,
      config.schedule,
      this.epochOf(step),
      length.totalSteps / length.stepsPerEpoch,
    );
    let result: StepResult;
    try {
      result =
        penalizedStep !== undefined && isPenalizedStep(config, step)
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
    this.state.step = step + 1;
    const w = this.state.window;
    w.loss += result.loss;
    w.accuracy += result.accuracy;
    if (result.penalty !== null) {
      w.penalty += result.penalty;
      w.penalized += 1;
    }
    w.count += 1;
    this.figures.loss = result.loss;
    this.figures.accuracy = result.accuracy;
    if (result.penalty !== null) this.figures.penalty = result.penalty;
    return lr;
  }

  /** The records, measurements and checkpoint due after the step just taken. */
  private async recordDueEvents(lr: number): Promise<void> {
    const step = this.state.step;
    const due = eventsAfterStep(this.parts.config, step, this.parts.length);
    if (due.log) {
      const w = this.state.window;
      this.record({
        kind: 'train',
        step,
        epoch: this.epochOf(step),
        time: this.now(),
        lr,
        loss: w.loss / w.count,
        accuracy: w.accuracy / w.count,
        penalty: w.penalized > 0 ? w.penalty / w.penalized : null,
      });
      this.state.window = { loss: 0, accuracy: 0, penalty: 0, penalized: 0, count: 0 };
    }
    if (due.trace) await this.track(step);
    if (due.evaluate) await this.evaluate(step);
    if (due.curvature) {
      const c = await measureCurvature(this.parts.config, this.parts.runModel, this.parts.data, step);
      const r: CurvatureRecord = {
        kind: 'curvature',
        step,
        epoch: this.epochOf(step),
        time: this.now(),
        ...c,
      };
      this.record(r);
    }
    if (due.checkpoint) await this.checkpoint();
  }

  /** Tr(F) and an evaluation before the first step. */
  private async measureStart(): Promise<void> {
    const { config, length } = this.parts;
    if (isTrackingStep(config, 0, length.stepsPerEpoch)) await this.track(0);
    await this.evaluate(0);
  }

  private record(r: MetricRecord): void {
    this.metrics.append(r);
    if (r.kind === 'train') this.last.train = r;
    if (r.kind === 'eval') this.last.eval = r;
    if (r.kind === 'fisher') this.last.fisher = r;
    this.hooks.onRecord?.(r);
  }

  private async track(step: number): Promise<void> {
    const { config, runModel, data } = this.parts;
    const result = await measureFisherTrace(config, runModel, data, step);
    finiteOrThrow('Tr(F)', step, result.value);
    const r: FisherRecord = {
      kind: 'fisher',
      step,
      epoch: this.epochOf(step),
      time: this.now(),
      estimator: result.estimator,
      traceF: result.value,
      traceFStdErr: result.standardError,
      examples: result.examples,
    };
    this.record(r);
    this.figures.traceF = r.traceF;
    this.figures.traceFStdErr = r.traceFStdErr;
  }

  private async evaluate(step: number): Promise<void> {
    const evaluation = await evaluateSplit(this.parts.runModel.model, this.parts.data, this.parts.config);
    const r: EvalRecord = { kind: 'eval', step, epoch: this.epochOf(step), time: this.now(), ...evaluation };
    this.record(r);
    this.figures.testAccuracy = r.testAccuracy;
    this.hooks.log(
      `epoch ${this.epochOf(step).toFixed(2)}  train ${pct(r.trainAccuracy)}  test ${pct(r.testAccuracy)}` +
        (r.trainNoisyAccuracy !== undefined
          ? `  clean ${pct(r.trainCleanAccuracy)}  noisy ${pct(r.trainNoisyAccuracy)}`
          : '') +
        (this.figures.traceF !== undefined ? `  Tr(F) ${this.figures.traceF.toPrecision(4)}` : ''),
    );
  }

  /**
   * Checkpoints the state now. A checkpoint of the same step and records as the last one (a stop
   * right after an epoch's end, or right after a resume) is already on disk: it is not rewritten.
   */
  private async checkpoint(): Promise<void> {
    this.metrics.sync();
    if (this.saved?.step === this.state.step && this.saved.metricsBytes === this.metrics.bytes()) return;
    this.state.metricsBytes = this.metrics.bytes();
    this.state.elapsed = this.now();
    this.state.metricsSha256 = this.metrics.sha256();
    await this.run.checkpoint(
      { state: this.state, model: this.parts.runModel.model, optimizer: this.parts.optimizer.snapshot() },
      this.hooks.onCheckpointPhase,
    );
    this.saved = { step: this.state.step, metricsBytes: this.state.metricsBytes };
  }

  private diverged(caught: Divergence): TrainOutcome {
    this.hooks.log(
      `diverged: ${caught.message}; ` +
        (this.saved === undefined
          ? 'it diverged before its first checkpoint, so there is none to keep; its records up to then are in metrics.jsonl'
          : `the last good checkpoint (step ${this.saved.step}) is kept`),
    );
    return this.end('diverged', { message: caught.message, step: caught.step, quantity: caught.quantity });
  }

  private end(status: RunMeta['status'], error?: RunMeta['error']): TrainOutcome {
    this.metrics.sync();
    this.metrics.close();
    this.run.finish({ status, step: this.state.step, ...(error ? { error } : {}) });
    return {
      status,
      runDir: this.run.path,
      steps: this.state.step,
      last: this.last,
      ...(error ? { error } : {}),
    };
  }
}
