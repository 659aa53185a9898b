import { initBackend, softmaxCrossEntropy, tf } from '@fisherlab/engine';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hutchinsonTrace } from '../curvature/hutchinson.js';
import { topEigenpairs } from '../curvature/lanczos.js';
import { symmetricEigen } from '../curvature/symmetric_eigen.js';
import { seededStream } from '../curvature/vectors.js';
import { batchNormConv } from '../penalty/fixtures/tiny_models.js';
import { estimateFisherTrace } from '../trace/estimate.js';
import { batchesOf } from './data.js';
import { fisherDiagonal } from './diagonal.js';
import { fisherOperator } from './fisher.js';
import { type CurvatureCase, curvatureCase, directionOfSize } from './fixtures/cases.js';
import {
  crossEntropyHessian,
  drawnLabels,
  finiteDifferenceHessian,
  identity,
  jacobians,
  labelOuter,
  relativeError,
  sandwich,
  times,
} from './fixtures/dense.js';
import { GGNOperator } from './ggn.js';
import { HessianOperator } from './hessian.js';
import type { CurvatureBatch } from './types.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

/**
 * Every operator product and the diagonal against dense matrices built in the test from per-example
 * Jacobians (first-order gradients of each output) and the loss Hessians written out by hand; the
 * Hessian against central differences of the gradient. Data in batches of 3 (7 examples: 3, 3, 1).
 */
describe.each(['mlp', 'simplecnn'] as const)('curvature operators on a small %s', (key) => {
  let c: CurvatureCase;
  let rows: Float64Array[][];
  let outputs: number[][];
  let labels: number[];
  let data: Iterable<CurvatureBatch>;
  let v: Float64Array;

  beforeAll(() => {
    c = curvatureCase(key);
    ({ rows, outputs } = jacobians(c.model, c.x));
    labels = Array.from(c.labels.dataSync());
    data = batchesOf({ x: c.x, labels: c.labels }, 3);
    v = directionOfSize(rows[0]![0]!.length);
  });
  afterAll(() => {
    c.model.dispose();
  });

  it('GGN·v and exact F·v equal (1/N) Σ Jᵢᵀ (diag p − ppᵀ) Jᵢ v', async () => {
    const dense = sandwich(rows, (i) => crossEntropyHessian(outputs[i]!));
    const expected = times(dense, v);
    expect(relativeError(await new GGNOperator(c.model, data).apply(v), expected)).toBeLessThan(1e-5);
    expect(relativeError(await fisherOperator(c.model, data).apply(v), expected)).toBeLessThan(1e-5);
  });

  it('Monte Carlo F·v equals (1/N) Σ gᵢgᵢᵀ v with the seeded draws, the same on every product', async () => {
    const drawn = drawnLabels(outputs, 5);
    const expected = times(
      sandwich(rows, (i) => labelOuter(outputs[i]!, drawn[i]!)),
      v,
    );
    const operator = fisherOperator(c.model, data, { type: 'mc', seed: 5 });
    expect(relativeError(await operator.apply(v), expected)).toBeLessThan(1e-5);
    expect(relativeError(await operator.apply(v), expected)).toBeLessThan(1e-5);
  });

  it('empirical F·v uses the true labels', async () => {
    const expected = times(
      sandwich(rows, (i) => labelOuter(outputs[i]!, labels[i]!)),
      v,
    );
    const product = await fisherOperator(c.model, data, { type: 'empirical' }).apply(v);
    expect(relativeError(product, expected)).toBeLessThan(1e-5);
  });

  it('mse: GGN·v equals (1/N) Σ Jᵢᵀ Jᵢ v (the Gaussian likelihood)', async () => {
    const expected = times(
      sandwich(rows, () => identity(3)),
      v,
    );
    const targets = batchesOf({ x: c.x, labels: c.targets }, 3);
    expect(
      relativeError(await new GGNOperator(c.model, targets, { loss: 'mse' }).apply(v), expected),
    ).toBeLessThan(1e-5);
  });

  it('H·v equals central differences of the gradient, and per-weight products equal flat ones', async () => {
    // A step of 1e-4 stays inside the relu/max-pool kinks of these weights (1e-3 crosses one in the CNN).
    const dense = finiteDifferenceHessian(
      c.model,
      () => softmaxCrossEntropy(c.model.apply(c.x, { training: false }) as tf.Tensor2D, c.labels),
      1e-4,
    );
    const hessian = new HessianOperator(c.model, data);
    const product = await hessian.apply(v);
    expect(relativeError(product, times(dense, v))).toBeLessThan(2e-3);
    const perWeight = await hessian.applyPerWeight(hessian.layout.unflatten(v));
    expect(relativeError(hessian.layout.flatten(perWeight), product)).toBeLessThan(1e-6);
    tf.dispose(perWeight);
  });

  it('the diagonal (exact, mc) is the dense diagonal, its sum the Tr(F) estimators, per layer too', async () => {
    const whole = { x: c.x, labels: c.labels };
    const exact = await fisherDiagonal(c.model, batchesOf(whole, 3));
    const dense = sandwich(rows, (i) => crossEntropyHessian(outputs[i]!));
    expect(
      relativeError(
        exact.values,
        dense.map((row, k) => row[k]!),
      ),
    ).toBeLessThan(1e-5);
    const trace = estimateFisherTrace(c.model, { x: c.x }, { estimator: 'exact', batchSize: 3 });
    expect(Math.abs(exact.trace - trace.value) / trace.value).toBeLessThan(1e-5);
    expect(Math.abs(exact.traceStandardError - trace.standardError) / trace.standardError).toBeLessThan(1e-4);
    for (const [layer, estimate] of Object.entries(trace.perLayer)) {
      expect(Math.abs(exact.perLayer[layer]!.value - estimate.value)).toBeLessThan(1e-5 * trace.value);
    }
    const mc = await fisherDiagonal(c.model, batchesOf(whole, 3), { type: 'mc', seed: 5 });
    const drawn = drawnLabels(outputs, 5);
    const denseMc = sandwich(rows, (i) => labelOuter(outputs[i]!, drawn[i]!));
    expect(
      relativeError(
        mc.values,
        denseMc.map((row, k) => row[k]!),
      ),
    ).toBeLessThan(1e-5);
    const mcTrace = estimateFisherTrace(c.model, { x: c.x }, { estimator: 'mc', batchSize: 3, seed: 5 });
    expect(Math.abs(mc.trace - mcTrace.value) / mcTrace.value).toBeLessThan(1e-5);
    expect(mc.standardErrors.every((se) => se >= 0)).toBe(true);
    expect(exact.perWeight.map((w) => w.name)).toEqual(c.model.trainableWeights.map((w) => w.originalName));
  });

  it('Lanczos top-k of the GGN operator equals the dense spectrum, with eigenvectors', async () => {
    const dense = sandwich(rows, (i) => crossEntropyHessian(outputs[i]!));
    const spectrum = symmetricEigen(dense.map((row) => Array.from(row))).values;
    const top = await topEigenpairs(new GGNOperator(c.model, data), {
      k: 3,
      maxIterations: 60,
      tolerance: 1e-6,
    });
    for (let i = 0; i < 3; i++) {
      expect(Math.abs(top.values[i]! - spectrum[i]!) / spectrum[0]!).toBeLessThan(1e-5);
      const y = top.vectors[i]!;
      expect(
        relativeError(
          times(dense, y),
          y.map((x) => x * top.values[i]!),
        ),
      ).toBeLessThan(1e-3);
    }
  });

  it('Hutchinson on the GGN operator: each zᵀGz is the dense quadratic form, the mean within 4 SE of Tr(F)', async () => {
    const dense = sandwich(rows, (i) => crossEntropyHessian(outputs[i]!));
    const trace = dense.reduce((s, row, k) => s + row[k]!, 0);
    const estimate = await hutchinsonTrace(new GGNOperator(c.model, data), { probes: 30, seed: 2 });
    expect(Math.abs(estimate.value - trace)).toBeLessThan(4 * estimate.standardError);
    const uniform = seededStream('hutchinson', 2);
    for (const sample of estimate.samples.slice(0, 5)) {
      const z = Float64Array.from(dense, () => (uniform() < 0.5 ? -1 : 1));
      const quadratic = times(dense, z).reduce((s, x, k) => s + x * z[k]!, 0);
      expect(Math.abs(sample - quadratic)).toBeLessThan(1e-5 * Math.abs(quadratic));
    }
  });

  it('leaks no tensors', async () => {
    const before = tf.memory().numTensors;
    await new GGNOperator(c.model, data).apply(v);
    await fisherOperator(c.model, data, { type: 'mc' }).apply(v);
    await new HessianOperator(c.model, data).apply(v);
    await fisherDiagonal(c.model, data, { type: 'mc' });
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('a conv net with batch norm (inference mode)', () => {
  it('GGN·v and the exact diagonal equal the dense GGN from per-example Jacobians', async () => {
    const c = batchNormConv();
    const { rows, outputs } = jacobians(c.model, c.x);
    const dense = sandwich(rows, (i) => crossEntropyHessian(outputs[i]!));
    const v = directionOfSize(rows[0]![0]!.length);
    const data = batchesOf({ x: c.x, labels: c.labels }, 4);
    expect(relativeError(await new GGNOperator(c.model, data).apply(v), times(dense, v))).toBeLessThan(1e-5);
    const diag = await fisherDiagonal(c.model, data);
    expect(
      relativeError(
        diag.values,
        dense.map((row, k) => row[k]!),
      ),
    ).toBeLessThan(1e-5);
    c.model.dispose();
  });
});
