/**
 * Every bad-input error in this package says the same four things: which file (or key), what was
 * expected, what was found, and how to fix it. Callers (the CLI) can print `message` as is, or use
 * the fields to build their own.
 */
export class DatasetError extends Error {
  override readonly name = 'DatasetError';
  constructor(
    readonly file: string,
    readonly expected: string,
    readonly found: string,
    readonly fix: string,
  ) {
    super(`${file}: expected ${expected}, found ${found}. Fix: ${fix}`);
  }
}

/** The usual fix for a dataset file that is damaged: fetch it again. */
export function redownloadFix(datasetName: string): string {
  return `re-download it with \`fisherlab data download ${datasetName}\` (or point --data-dir / FISHERLAB_DATA at a good copy)`;
}

/** Node's error code for a failed fs call, or undefined. */
export function errnoCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error
    ? String((error as { code: unknown }).code)
    : undefined;
}
