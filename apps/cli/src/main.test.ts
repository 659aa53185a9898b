import { IntegrityError, LockHeldError, WriteError } from '@fisherlab/storage';
import { InputError } from '@fisherlab/training';
import { describe, expect, it } from 'vitest';
import { UserError } from './errors.js';
import { explainError } from './main.js';

/** The CLI's error boundary: input and environment errors exit 2 with their message, bugs exit 1. */
describe('explainError', () => {
  it('turns input and environment errors into exit 2 with the file and the fix', () => {
    expect(explainError(new UserError('bad --lr'))).toEqual({ message: 'bad --lr', exitCode: 2 });
    const full = new WriteError(
      '/runs/a/meta.json',
      'ENOSPC',
      'the disk is full: free space or write somewhere else',
    );
    expect(explainError(full)).toEqual({
      message:
        'cannot write /runs/a/meta.json: the disk is full: free space or write somewhere else (ENOSPC)',
      exitCode: 2,
    });
    expect(
      explainError(new IntegrityError('/r/optimizer.bin', '12 bytes', '5 bytes', 'start again'))?.exitCode,
    ).toBe(2);
    const holder = {
      host: 'h',
      pid: 1,
      purpose: 'fisherlab train',
      token: 't',
      startedAt: 's',
      heartbeatAt: 's',
    };
    expect(explainError(new LockHeldError('/r/run.lock', holder, 'alive'))?.exitCode).toBe(2);
    const dataset = new InputError({
      file: '/data/x.gz',
      expected: 'IDX',
      found: 'gzip garbage',
      fix: 'download it again',
    });
    expect(explainError(dataset)).toEqual({ message: dataset.message, exitCode: 2 });
    // A library error's key is mapped to the flag that sets it.
    const lr = new InputError({
      where: 'train()',
      key: 'optimizer.lr',
      expected: 'a number > 0',
      found: '0',
      fix: 'set optimizer.lr',
    });
    expect(explainError(lr)).toEqual({ message: `${lr.message} (on the command line: --lr)`, exitCode: 2 });
  });

  it('names the path of a raw operating-system error (a full disk, a missing file)', () => {
    const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), {
      code: 'ENOSPC',
      syscall: 'write',
      path: '/runs/a/metrics.jsonl',
    });
    expect(explainError(enospc)).toEqual({
      message:
        '/runs/a/metrics.jsonl: the disk is full: free space or write somewhere else (ENOSPC in write)',
      exitCode: 2,
    });
  });

  it('leaves everything else to be reported as a bug (exit 1 with its stack)', () => {
    expect(
      explainError(new TypeError("Cannot read properties of undefined (reading 'shape')")),
    ).toBeUndefined();
    expect(explainError(new SyntaxError('Unexpected token'))).toBeUndefined();
  });
});
