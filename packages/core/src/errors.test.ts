import { describe, expect, it } from 'vitest';
import { InputError, isInputError } from './input-error.js';
import { firstNonFinite, NonFiniteError } from './non-finite-error.js';

describe('InputError', () => {
  it('carries its parts as fields and says them in one line', () => {
    const error = new InputError({
      where: 'FisherPenalty.step',
      key: 'labels',
      expected: 'integers in [0, 10)',
      found: '10 at index 4',
      fix: 'map the labels to 0..9',
      index: 4,
    });
    expect(error.message).toBe(
      'FisherPenalty.step: labels: expected integers in [0, 10), found 10 at index 4. Fix: map the labels to 0..9',
    );
    expect(error).toMatchObject({ name: 'InputError', key: 'labels', index: 4, file: undefined });
    const file = new InputError({
      file: '/d/x.gz',
      expected: 'IDX',
      found: 'gzip garbage',
      fix: 'download it again',
    });
    expect(file.message).toBe('/d/x.gz: expected IDX, found gzip garbage. Fix: download it again');
  });

  it('isInputError also recognizes one from another copy of the package (same fields, another class)', () => {
    const foreign = Object.assign(new Error('x'), { expected: 'a', found: 'b', fix: 'c' });
    expect(isInputError(foreign)).toBe(true);
    expect(isInputError(new Error('x'))).toBe(false);
    expect(isInputError('x')).toBe(false);
  });
});

describe('non-finite values', () => {
  it('firstNonFinite finds the first NaN or ±Infinity, or -1', () => {
    expect(firstNonFinite(Float32Array.from([0, 1, -2]))).toBe(-1);
    expect(firstNonFinite([0, 1, Number.NaN, Number.POSITIVE_INFINITY])).toBe(2);
    expect(firstNonFinite([0, Number.NEGATIVE_INFINITY])).toBe(1);
    expect(firstNonFinite(Float64Array.from([1e308, -1e308]))).toBe(-1);
  });

  it('NonFiniteError names the quantity, the element and the value', () => {
    const error = new NonFiniteError(
      'penalty',
      0,
      Number.NaN,
      'FisherPenalty.step',
      'lower the learning rate',
    );
    expect(error.message).toBe('FisherPenalty.step: penalty is NaN (element 0). lower the learning rate');
    expect(error).toMatchObject({ tensor: 'penalty', index: 0 });
  });
});
