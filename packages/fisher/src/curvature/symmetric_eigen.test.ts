import { describe, expect, it } from 'vitest';
import { symmetricEigen } from './symmetric_eigen.js';

describe('symmetricEigen', () => {
  it('recovers a spectrum built as Q diag(λ) Qᵀ with a random orthogonal Q', () => {
    const n = 7;
    const lambdas = [5, 3.5, 2, 0.5, -0.25, -1, -4];
    // Orthogonal Q by Gram-Schmidt on a fixed pseudo-random matrix.
    let state = 42;
    const rand = () => {
      state = (state * 16807) % 2147483647;
      return state / 2147483647 - 0.5;
    };
    const q: number[][] = [];
    for (let k = 0; k < n; k++) {
      const v = Array.from({ length: n }, rand);
      for (const u of q) {
        const d = v.reduce((s, x, i) => s + x * u[i]!, 0);
        for (let i = 0; i < n; i++) v[i]! -= d * u[i]!;
      }
      const norm = Math.hypot(...v);
      q.push(v.map((x) => x / norm));
    }
    const a = Array.from({ length: n }, (_, i) =>
      Array.from({ length: n }, (_, j) => lambdas.reduce((s, l, k) => s + l * q[k]![i]! * q[k]![j]!, 0)),
    );
    const { values, vectors } = symmetricEigen(a);
    for (const [k, v] of values.entries()) expect(v).toBeCloseTo(lambdas[k]!, 10);
    // A v = λ v for every returned pair.
    for (const [k, v] of vectors.entries()) {
      for (let i = 0; i < n; i++) {
        const av = a[i]!.reduce((s, x, j) => s + x * v[j]!, 0);
        expect(av).toBeCloseTo(values[k]! * v[i]!, 10);
      }
    }
  });

  it('rejects a non-square matrix, naming the row', () => {
    expect(() => symmetricEigen([[1, 2], [3]])).toThrow(/row 1 has 1 entries, expected 2/);
  });
});
