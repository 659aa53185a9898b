/** The structured fields of an InputError: what is at fault, what was expected and found, the fix. */
export interface InputErrorFields {
  /** The function or class that refused the input ('FisherPenalty.step', 'train()'). */
  where?: string;
  /** The argument, option or spec key at fault ('labels', 'options.batchSize', 'spec.dataset.name'). */
  key?: string;
  /** The file at fault, when the input is a file. */
  file?: string;
  /** What the input must be. */
  expected: string;
  /** What it was. */
  found: string;
  /** What to change, in the terms of the API that threw (never a command-line flag). */
  fix: string;
  /** The first offending element (flat index into the tensor or array), where there is one. */
  index?: number;
}

/**
 * Bad input a caller can fix: an argument, a spec key or a file that is not what the library needs.
 * Every FisherLab package throws this one class for that concept; the message names the key or
 * file, what was expected, what was found and the fix, and the same parts are fields, so a caller
 * (the CLI) can map `key` to its own flag and choose its exit code. Never a bug.
 */
export class InputError extends Error {
  override name = 'InputError';
  readonly where: string | undefined;
  readonly key: string | undefined;
  readonly file: string | undefined;
  readonly expected: string;
  readonly found: string;
  readonly fix: string;
  readonly index: number | undefined;

  constructor(fields: InputErrorFields, options?: ErrorOptions) {
    const subject = fields.file ?? fields.key ?? 'input';
    super(
      `${fields.where ? `${fields.where}: ` : ''}${subject}: expected ${fields.expected}, found ${fields.found}. Fix: ${fields.fix}`,
      options,
    );
    this.where = fields.where;
    this.key = fields.key;
    this.file = fields.file;
    this.expected = fields.expected;
    this.found = fields.found;
    this.fix = fields.fix;
    this.index = fields.index;
  }
}

/** True for an InputError (or subclass) from any copy of this package: instanceof fails across two installed copies. */
export function isInputError(error: unknown): error is InputError {
  return (
    error instanceof InputError ||
    (error instanceof Error && 'expected' in error && 'found' in error && 'fix' in error)
  );
}
