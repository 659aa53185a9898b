/**
 * Eigen-decomposition of a small dense symmetric matrix by cyclic Jacobi rotations (Golub & Van
 * Loan §8.5): each rotation zeroes one off-diagonal pair; sweeps repeat until the off-diagonal
 * mass is below `tolerance` times the Frobenius norm. O(n³) per sweep: for tridiagonal Lanczos
 * matrices and explicit Hessians of tiny test models, not for large matrices.
 */
export interface SymmetricEigen {
  /** Eigenvalues, descending. */
  values: number[];
  /** vectors[k] is the unit eigenvector of values[k]. */
  vectors: number[][];
}

export function symmetricEigen(matrix: number[][], tolerance = 1e-14, maxSweeps = 100): SymmetricEigen {
  const n = matrix.length;
  const a = matrix.map((row, i) => {
    if (row.length !== n)
      throw new Error(`symmetricEigen: row ${i} has ${row.length} entries, expected ${n} (a square matrix)`);
    return Float64Array.from(row);
  });
  const v = Array.from({ length: n }, (_, i) => {
    const row = new Float64Array(n);
    row[i] = 1;
    return row;
  });
  const at = (i: number, j: number) => (a[i] as Float64Array)[j] as number;
  let frobenius = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) frobenius += at(i, j) ** 2;
  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    let off = 0;
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) off += 2 * at(i, j) ** 2;
    if (off <= tolerance ** 2 * Math.max(frobenius, 1e-300)) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = at(p, q);
        if (apq === 0) continue;
        // Rotation angle that zeroes a[p][q]: tan 2φ = 2 a_pq / (a_qq − a_pp).
        const theta = (at(q, q) - at(p, p)) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = at(k, p);
          const akq = at(k, q);
          (a[k] as Float64Array)[p] = c * akp - s * akq;
          (a[k] as Float64Array)[q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = at(p, k);
          const aqk = at(q, k);
          (a[p] as Float64Array)[k] = c * apk - s * aqk;
          (a[q] as Float64Array)[k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const row = v[k] as Float64Array;
          const vkp = row[p] as number;
          const vkq = row[q] as number;
          row[p] = c * vkp - s * vkq;
          row[q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => at(j, j) - at(i, i));
  return {
    values: order.map((i) => at(i, i)),
    vectors: order.map((i) => v.map((row) => row[i] as number)),
  };
}
