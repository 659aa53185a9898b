/**
 * A problem the caller can fix (a bad spec, a run directory in the wrong state, a damaged
 * checkpoint): the message names the key or file, what was found and the fix. The CLI prints it
 * without a stack trace and exits 2.
 */
export class TrainingError extends Error {
  override name = 'TrainingError';
}
