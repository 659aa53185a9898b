import type { ConfigChange, LockHolder } from '@fisherlab/storage';

/**
 * A problem the caller can fix (a bad spec, a run directory in the wrong state, a damaged
 * checkpoint): the message names the key or file, what was found and the fix, in the library's
 * terms (spec keys and train() options). The subclasses carry the same facts as fields, so a tool
 * can say them in its own terms (the CLI names its flags and exits 2).
 */
export class TrainingError extends Error {
  override name = 'TrainingError';
}

/** Why a run directory cannot be used as asked. */
export type RunDirectoryProblem =
  /** Resume asked for, but the directory holds no run (no config.json). */
  | 'not-a-run'
  /** A fresh run asked for, but the directory holds a completed or diverged run. */
  | 'finished'
  /** A fresh run asked for, but the directory holds records or checkpoints of an earlier attempt. */
  | 'holds-records'
  /** Resume asked for, the run has records, but no checkpoint verifies. */
  | 'no-checkpoint'
  /** config.json differs from what the trainer wrote (its SHA-256 in meta.json). */
  | 'config-edited'
  /** meta.json or config.json is there but cannot be read. */
  | 'damaged'
  /** The run has trained more steps than the spec's epochs ask for. */
  | 'beyond-epochs'
  /** The directory cannot be created or written. */
  | 'unwritable';

/** A run directory in a state the request does not fit; nothing in it was changed. */
export class RunDirectoryError extends TrainingError {
  override name = 'RunDirectoryError';
  constructor(
    readonly runDir: string,
    readonly problem: RunDirectoryProblem,
    message: string,
    readonly details: { file?: string; expected?: string; found?: string } = {},
  ) {
    super(message);
  }
}

/**
 * A resume whose spec changes keys that a resumed run may not change (only RESUME_SAFE_KEYS may):
 * `changes` lists every changed key with the run's value (`from`) and the spec's (`to`). Nothing in
 * the run directory was changed.
 */
export class ResumeRefusedError extends TrainingError {
  override name = 'ResumeRefusedError';
  constructor(
    readonly runDir: string,
    readonly changes: readonly ConfigChange[],
    readonly allowed: readonly string[],
  ) {
    super(
      `cannot resume ${runDir} with changed settings: ${changes
        .map((c) => `${c.key} ${JSON.stringify(c.from)} → ${JSON.stringify(c.to)}`)
        .join(
          ', ',
        )}. A run continues with the config it started with (only ${allowed.join(', ')} may change); ` +
        'to train with other settings, train a new run into another output directory',
    );
  }
}

/** Another writer holds the run's lock: a second train() on the same output, here or elsewhere. */
export class RunInUseError extends TrainingError {
  override name = 'RunInUseError';
  constructor(
    readonly runDir: string,
    readonly lockFile: string,
    readonly holder: LockHolder,
    /** Whether the holder is this very process (another train() call still running). */
    readonly inThisProcess: boolean,
    readonly reason: string,
  ) {
    super(
      inThisProcess
        ? `${runDir} is being trained by another train() call in this process (since ${holder.startedAt}); ` +
            'wait for that call to finish, or train into another output directory'
        : `${runDir} is in use by another process: ${holder.purpose}, ${reason}, since ${holder.startedAt}. ` +
            `Wait for it to finish, or train into another output directory. The lock is ${lockFile}.`,
    );
  }
}

/** A checkpoint that cannot be read (another format, a manifest that lists no state). */
export class CheckpointError extends TrainingError {
  override name = 'CheckpointError';
  constructor(
    readonly dir: string,
    message: string,
  ) {
    super(message);
  }
}

/** A backend that cannot start, or not the one a resumed run started on. */
export class BackendError extends TrainingError {
  override name = 'BackendError';
  constructor(
    message: string,
    /** For a resume: the backend the run started on (and must continue on). */
    readonly recorded?: string,
  ) {
    super(message);
  }
}
