/**
 * The run records @fisherlab/training writes and @fisherlab/analysis reads: the contract between the two.
 * A run directory holds `config.json` (the resolved run config), `meta.json` (RunMeta) and
 * `metrics.jsonl` (one MetricRecord per line, append-only). Readers must tolerate a partial last
 * line (a run still going, or killed) and unknown extra fields (newer writers).
 */

export type RunStatus = 'running' | 'completed' | 'diverged' | 'failed' | 'interrupted';

export interface RunMeta {
  /** Stable id of the run (directory name by default). */
  id: string;
  /** Human label, e.g. "lr=0.005 + FP(α=0.1)". */
  name: string;
  status: RunStatus;
  /** ISO timestamps. */
  startedAt: string;
  endedAt?: string;
  /** Backend that ran it ('wasm', 'tensorflow', 'cpu', ...). */
  backend: string;
  versions: Record<string, string>;
  gitCommit?: string;
  /** For status 'diverged' or 'failed': what went wrong, at which step, in which quantity. */
  error?: { message: string; step?: number; quantity?: string };
  /** Last step completed. */
  step?: number;
  /** Threads of the native kernels (oneDNN), when they ran: results depend on it in the last digits. */
  nativeThreads?: number;
  /** The most tensor memory the backend could hold (null where it cannot tell, e.g. a GPU), and what set it. */
  memoryCeiling?: { bytes: number | null; reason: string };
  /** SHA-256 of config.json as the trainer last wrote it: a resume refuses a config.json edited by hand. */
  configSha256?: string;
  /** Every resume of the run, with the config keys it changed (only keys safe to change, such as epochs). */
  resumes?: RunResume[];
}

/** A config key a resume changed, with its value before and after. */
export interface ConfigChange {
  key: string;
  from: unknown;
  to: unknown;
}

/** One resume of a run, as recorded in meta.json. */
export interface RunResume {
  /** ISO timestamp. */
  at: string;
  /** Steps completed when it resumed (0 when it had no checkpoint yet and started over). */
  fromStep: number;
  /** The checkpoint it continued from, relative to the run directory. */
  checkpoint?: string;
  /** Config keys it changed (empty when it continued unchanged). */
  changes: ConfigChange[];
}

/** Fields every metrics line has. `epoch` is fractional: step / stepsPerEpoch. */
interface RecordBase {
  step: number;
  epoch: number;
  /** Seconds since the run started (excluding time before a resume is NOT subtracted). */
  time: number;
}

/** A logged training step (averaged over the steps since the previous 'train' line). */
export interface TrainRecord extends RecordBase {
  kind: 'train';
  lr: number;
  loss: number;
  accuracy: number;
  /** Value of the penalty term ‖ḡ‖² (without α), or null when no penalty is applied. */
  penalty: number | null;
}

/** A Tr(F) measurement on the run's fixed tracking subset. */
export interface FisherRecord extends RecordBase {
  kind: 'fisher';
  /** 'exact' | 'mc' | 'minibatch' | 'empirical' ('empirical' is NOT Tr(F): the empirical Fisher). */
  estimator: string;
  traceF: number;
  traceFStdErr: number;
  examples: number;
}

/** An evaluation pass (end of epoch by default). Absent fields were not measured. */
export interface EvalRecord extends RecordBase {
  kind: 'eval';
  trainLoss?: number;
  trainAccuracy?: number;
  /** Training accuracy (against the labels trained on) on examples whose label was not changed. */
  trainCleanAccuracy?: number;
  /** Training accuracy (against the noisy labels trained on) on examples whose label was changed. */
  trainNoisyAccuracy?: number;
  valLoss?: number;
  valAccuracy?: number;
  testLoss?: number;
  testAccuracy?: number;
}

/** Curvature probes (flatness): Hutchinson Tr(H) and the top Hessian eigenvalue. */
export interface CurvatureRecord extends RecordBase {
  kind: 'curvature';
  traceH?: number;
  traceHStdErr?: number;
  topEigenvalue?: number;
}

export type MetricRecord = TrainRecord | FisherRecord | EvalRecord | CurvatureRecord;
