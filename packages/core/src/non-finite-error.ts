/**
 * A computed quantity (a loss, a penalty, a gradient, Tr(F)) became NaN or ±Infinity: training has
 * diverged or the inputs were extreme. Names the tensor, the first bad element and its value; not
 * bad input (that is InputError) and not a bug.
 */
export class NonFiniteError extends Error {
  override name = 'NonFiniteError';
  constructor(
    /** The quantity ('loss', 'penalty', 'Tr(F)'). */
    readonly tensor: string,
    /** Flat index of its first non-finite element (0 for a scalar). */
    readonly index: number,
    readonly value: number,
    /** The function that computed it. */
    readonly where: string,
    /** What usually helps. */
    readonly fix: string,
  ) {
    super(`${where}: ${tensor} is ${value} (element ${index}). ${fix}`);
  }
}

/** Flat index of the first NaN or ±Infinity in `values`, or -1. */
export function firstNonFinite(values: ArrayLike<number>): number {
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    // v - v is 0 for every finite v and NaN for NaN and ±Infinity: one subtraction per element.
    if (v - v !== 0) return i;
  }
  return -1;
}
