import { seededUniform } from '@fisherlab/core';
import { initBackend, tf } from '@fisherlab/engine';
import { beforeAll, describe, expect, it } from 'vitest';
import { batchNormConv, type TinyCase, tanhMlp } from '../penalty/fixtures/tiny_models.js';
import { FlatHessian } from './hessian.js';
import { hutchinsonHessianTrace } from './hutchinson.js';
import { topHessianEigenvalue } from './lanczos.js';
import { symmetricEigen } from './symmetric_eigen.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

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

  beforeAll(() => {
    c = build();
    data = { x: c.x, labels: c.labels };
    const h = new FlatHessian(c.model, data);
    explicit = h.explicit();
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

  it('Hutchinson: each zᵀHz equals the explicit quadratic form, and the mean is within 4 SE of Tr(H)', () => {
    const estimate = hutchinsonHessianTrace(c.model, data, { probes: 40, seed: 3, batchSize: 4 });
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

  it('Lanczos: the top eigenvalue matches the explicit spectrum', () => {
    const top = topHessianEigenvalue(c.model, data, { maxIterations: 40, tolerance: 1e-6 });
    expect(top.converged).toBe(true);
    expect(Math.abs(top.value - spectrum[0]!) / Math.abs(spectrum[0]!)).toBeLessThan(1e-4);
    expect(top.iterations).toBeLessThan(explicit.length);
  });

  it('chunked products (batchSize) equal the whole-subset product', () => {
    const v = Float64Array.from({ length: explicit.length }, (_, i) => Math.sin(i + 1));
    const whole = new FlatHessian(c.model, data).apply(v);
    const chunked = new FlatHessian(c.model, data, { batchSize: 4 });
    const parts = chunked.apply(v);
    chunked.dispose();
    const err = Math.sqrt(
      whole.reduce((s, x, i) => s + (x - parts[i]!) ** 2, 0) / whole.reduce((s, x) => s + x * x, 0),
    );
    expect(err).toBeLessThan(1e-5);
  });

  it('leaks no tensors', () => {
    const before = tf.memory().numTensors;
    hutchinsonHessianTrace(c.model, data, { probes: 2, batchSize: 4 });
    topHessianEigenvalue(c.model, data, { maxIterations: 3, batchSize: 4 });
    expect(tf.memory().numTensors).toBe(before);
  });
});
