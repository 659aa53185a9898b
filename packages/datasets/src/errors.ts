import { InputError } from '@fisherlab/core';

/**
 * A dataset file that is not what it must be: every bad-input error of this package is an
 * InputError naming the file (or option), what was expected, what was found and the fix.
 */
export function fileError(file: string, expected: string, found: string, fix: string): InputError {
  return new InputError({ file, expected, found, fix });
}

/** The usual fix for a dataset file that is damaged: fetch it again. */
export function redownloadFix(datasetName: string): string {
  return `download it again with downloadDataset('${datasetName}'), or point the \`dir\` option or FISHERLAB_DATA at a good copy`;
}

/** Node's error code for a failed fs call, or undefined. */
export function errnoCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error
    ? String((error as { code: unknown }).code)
    : undefined;
}
