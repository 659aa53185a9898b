/**
 * A run record (directory, meta.json, config.json, metrics.jsonl) that cannot be read as one:
 * the message names the file, what was expected and the fix. Bad input, never a bug.
 */
export class RunDataError extends Error {
  override readonly name = 'RunDataError';
}
