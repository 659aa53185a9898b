import { seededUniform } from '@fisherlab/core';
import { initBackend, tf } from '@fisherlab/engine';
import { beforeAll, describe, expect, it } from 'vitest';
import { batchesOf } from '../operators/data.js';
import { HessianOperator } from '../operators/hessian.js';
import type { LinearOperator } from '../operators/types.js';
import { batchNormConv, type TinyCase, tanhMlp } from '../penalty/fixtures/tiny_models.js';
import { hutchinsonHessianTrace } from './hutchinson.js';
import { topHessianEigenvalue } from './lanczos.js';
import { symmetricEigen } from './symmetric_eigen.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

/** The n×n matrix of an operator from n products with basis vectors: tiny operators only. */
async function explicitMatrix(operator: LinearOperator): Promise<number[][]> {
  const columns: Float64Array[] = [];
  for (let j = 0; j < operator.size; j++) {
    const e = new Float64Array(operator.size);
    e[j] = 1;
    columns.push(await operator.apply(e));
  }
  return Array.from({ length: operator.size }, (_, i) => columns.map((col) => col[i]!));
}

/**
 * Explicit Hessians of tiny models (66 and 99 weights) built column by column from exact HVPs with
 * basis vectors, BatchNorm in inference mode. Their trace and spectrum (Jacobi) are the truth for
 * Hutchinson and Lanczos.
 */
describe.each([
  ['MLP with tanh', tanhMlp],
  ['conv + batch norm (inference mode)', batchNormConv],
])('curvature probes on %s', (_name, build) => {
  let c: TinyCase;
  let data: { x: tf.Tensor; labels: tf.Tensor1D };
  let explicit: number[][] = [];
  let trace = 0;
  let spectrum: number[] = [];

  beforeAll(async () => {
    c = build();
    data = { x: c.x, labels: c.labels };
    explicit = await explicitMatrix(new HessianOperator(c.model, [data]));
    trace = explicit.reduce((s, row, i) => s + row[i]!, 0);
    const symmetric = explicit.map((row, i) => row.map((x, j) => (x + explicit[j]![i]!) / 2));
    spectrum = symmetricEigen(symmetric).values;
  });

  it('the explicit Hessian is symmetric (a check on the HVPs themselves)', () => {
    let asym = 0;
    let norm = 0;
    for (let i = 0; i < explicit.length; i++) {
      for (let j = 0; j < explicit.length; j++) {
        asym += (explicit[i]![j]! - explicit[j]![i]!) ** 2;
        norm += explicit[i]![j]! ** 2;
      }
    }
    expect(Math.sqrt(asym / norm)).toBeLessThan(1e-5);
  });

  it('Hutchinson: each zᵀHz equals the explicit quadratic form, and the mean is within 4 SE of Tr(H)', async () => {
    const estimate = await hutchinsonHessianTrace(c.model, data, { probes: 40, seed: 3, batchSize: 4 });
    // The probes are the documented seeded Rademacher stream: rebuild them and evaluate zᵀHz exactly.
    const uniform = seededUniform(3, 0x4855);
    for (const sample of estimate.samples) {
      const z = explicit.map(() => (uniform() < 0.5 ? -1 : 1));
      const quadratic = z.reduce(
        (s, zi, i) => s + zi * explicit[i]!.reduce((t, h, j) => t + h * z[j]!, 0),
        0,
      );
      expect(Math.abs(sample - quadratic)).toBeLessThan(1e-4 * Math.max(1, Math.abs(quadratic)));
    }
    expect(estimate.standardError).toBeGreaterThan(0);
    expect(Math.abs(estimate.value - trace)).toBeLessThan(4 * estimate.standardError);
    expect(estimate.probes).toBe(40);
    expect(estimate.examples).toBe(c.x.shape[0]);
  });

  it('Lanczos: the top eigenvalue matches the explicit spectrum', async () => {
    const top = await topHessianEigenvalue(c.model, data, { maxIterations: 40, tolerance: 1e-6 });
    expect(top.converged).toBe(true);
    expect(Math.abs(top.value - spectrum[0]!) / Math.abs(spectrum[0]!)).toBeLessThan(1e-4);
    expect(top.iterations).toBeLessThan(explicit.length);
  });

  it('chunked products (batches of 4) equal the whole-subset product', async () => {
    const v = Float64Array.from({ length: explicit.length }, (_, i) => Math.sin(i + 1));
    const whole = await new HessianOperator(c.model, [data]).apply(v);
    const parts = await new HessianOperator(c.model, batchesOf(data, 4)).apply(v);
    const err = Math.sqrt(
      whole.reduce((s, x, i) => s + (x - parts[i]!) ** 2, 0) / whole.reduce((s, x) => s + x * x, 0),
    );
    expect(err).toBeLessThan(1e-5);
  });

  it('leaks no tensors', async () => {
    const before = tf.memory().numTensors;
    await hutchinsonHessianTrace(c.model, data, { probes: 2, batchSize: 4 });
    await topHessianEigenvalue(c.model, data, { maxIterations: 3, batchSize: 4 });
    expect(tf.memory().numTensors).toBe(before);
  });
});
