import { seededUniform } from '@fisherlab/core';

/** Small float64 vector helpers shared by the curvature algorithms. */
export const dot = (a: Float64Array, b: Float64Array): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s;
};

export function scale(v: Float64Array, factor: number): void {
  for (let i = 0; i < v.length; i++) v[i] = (v[i] as number) * factor;
}

/** y ← y + a x */
export function axpy(y: Float64Array, x: Float64Array, a: number): void {
  for (let i = 0; i < y.length; i++) y[i] = (y[i] as number) + a * (x[i] as number);
}

export const norm = (v: Float64Array): number => Math.sqrt(dot(v, v));

/** A seeded Rademacher vector (entries ±1, probability ½ each) from `uniform`. */
export function rademacher(size: number, uniform: () => number): Float64Array {
  const z = new Float64Array(size);
  for (let i = 0; i < size; i++) z[i] = uniform() < 0.5 ? -1 : 1;
  return z;
}

/**
 * The curvature algorithms' streams of the shared generator family (@fisherlab/core): each draws
 * from deriveSeed(seed, its stream id), the same on every backend and apart from every other stream.
 */
export const CURVATURE_STREAM = { hutchinson: 0x4855, lanczos: 0x4c41, power: 0x504f, slq: 0x534c } as const;

/** The uniform stream of one curvature algorithm at `seed`. */
export const seededStream = (name: keyof typeof CURVATURE_STREAM, seed: number): (() => number) =>
  seededUniform(seed, CURVATURE_STREAM[name]);

/** Refuses a non-positive-integer option, naming it. */
export function positiveInteger(where: string, key: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(`${where}: options.${key} must be a positive integer, found ${value}`);
  }
  return value;
}
