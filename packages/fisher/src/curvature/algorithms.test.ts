import { describe, expect, it } from 'vitest';
import { denseOperator } from '../operators/types.js';
import { broadenDensity, spectralDensity } from './density.js';
import { hutchinsonTrace } from './hutchinson.js';
import { topEigenpairs } from './lanczos.js';
import { powerIteration } from './power.js';

/** A = Q diag(λ) Qᵀ with a fixed orthogonal Q (Householder reflection of a fixed vector). */
function matrixWithSpectrum(lambdas: number[]): number[][] {
  const n = lambdas.length;
  const u = Array.from({ length: n }, (_, i) => Math.cos(3 * i + 1));
  const uu = u.reduce((s, x) => s + x * x, 0);
  const q = (i: number, j: number) => (i === j ? 1 : 0) - (2 * u[i]! * u[j]!) / uu;
  return Array.from({ length: n }, (_, i) =>
    Array.from({ length: n }, (_, j) => lambdas.reduce((s, l, k) => s + l * q(i, k) * q(j, k), 0)),
  );
}

const lambdas = [9, 7.5, 4, 2, 1, 0.5, 0.25, 0, -0.5, -3];
const operator = denseOperator(matrixWithSpectrum(lambdas));

describe('curvature algorithms on a dense operator with a known spectrum', () => {
  it('Lanczos top-k: eigenvalues and eigenvectors (A y = λ y), residuals reported', async () => {
    const top = await topEigenpairs(operator, { k: 3, tolerance: 1e-10 });
    expect(top.converged).toBe(true);
    top.values.forEach((value, i) => {
      expect(value).toBeCloseTo(lambdas[i]!, 9);
      const y = top.vectors[i]!;
      const ay = operator.apply(y) as Float64Array;
      ay.forEach((entry, k) => {
        expect(entry).toBeCloseTo(value * y[k]!, 8);
      });
      expect(top.residuals[i]).toBeLessThan(1e-8);
    });
  });

  it('power iteration finds the eigenvalue of largest magnitude', async () => {
    const power = await powerIteration(operator, { maxIterations: 500, tolerance: 1e-12 });
    expect(power.converged).toBe(true);
    expect(power.value).toBeCloseTo(9, 6);
  });

  it('Hutchinson: the mean of zᵀAz is within 4 standard errors of Tr(A)', async () => {
    const trace = lambdas.reduce((s, l) => s + l, 0);
    const estimate = await hutchinsonTrace(operator, { probes: 200, seed: 1 });
    expect(Math.abs(estimate.value - trace)).toBeLessThan(4 * estimate.standardError);
    expect(estimate.standardError).toBeGreaterThan(0);
  });

  it('SLQ with n steps: nodes are the eigenvalues, weights sum to 1, the trace quadrature is exact per run', async () => {
    const density = await spectralDensity(operator, { runs: 4, iterations: lambdas.length, seed: 2 });
    for (const run of density.runs) {
      expect(run.weights.reduce((s, w) => s + w, 0)).toBeCloseTo(1, 10);
      const nodes = [...run.nodes].sort((a, b) => b - a);
      nodes.forEach((node, i) => {
        expect(node).toBeCloseTo(lambdas[i]!, 6);
      });
    }
    // Each run gives n · vᵀAv/‖v‖² exactly; with Rademacher v its mean is within 4 SE of Tr(A).
    const trace = lambdas.reduce((s, l) => s + l, 0);
    expect(Math.abs(density.trace - trace)).toBeLessThan(4 * density.traceStandardError);
    const broadened = broadenDensity(density, { bins: 2000, sigmaSquared: 1e-3 });
    const step = broadened.grid[1]! - broadened.grid[0]!;
    expect(broadened.values.reduce((s, v) => s + v, 0) * step).toBeCloseTo(1, 10);
    // The density peaks at the eigenvalues: near 9 it is far above its value at 3, midway between
    // the eigenvalues 2 and 4 (30 widths from either).
    const at = broadened.grid.findIndex((t) => t >= 9);
    const near = broadened.values.slice(at - 3, at + 4);
    const between = broadened.grid.findIndex((t) => t >= 3);
    expect(Math.max(...near)).toBeGreaterThan(10 * broadened.values[between]!);
    // The default width: σ = 1% of the range, so on 200 bins each peak spans several grid points.
    const coarse = broadenDensity(density, { bins: 200 });
    const range = coarse.grid.at(-1)! - coarse.grid[0]!;
    expect(Math.sqrt(coarse.sigmaSquared)).toBeCloseTo(0.01 * range, 10);
    const peak = coarse.values.indexOf(Math.max(...coarse.values.slice(150)));
    expect(coarse.values[peak - 1]! / coarse.values[peak]!).toBeGreaterThan(0.5);
  });

  it('options are checked', async () => {
    await expect(topEigenpairs(operator, { k: 0 })).rejects.toThrow(/options.k must be a positive integer/);
    await expect(spectralDensity(operator, { runs: 1.5 })).rejects.toThrow(/options.runs/);
    await expect(hutchinsonTrace(operator, { probes: 1 })).rejects.toThrow(/probes must be an integer ≥ 2/);
  });
});
