import type { CurvatureRecord } from '@fisherlab/storage';
import { describe, expect, it } from 'vitest';
import { describeCurvatureRecord } from './spectra.js';

describe('describeCurvatureRecord', () => {
  it('names the matrix and prints the eigenvalues, the density span and the diagonal per layer', () => {
    const record: CurvatureRecord = {
      kind: 'curvature',
      step: 120,
      epoch: 3,
      time: 9,
      matrix: 'fisher',
      examples: 256,
      split: 'train',
      topEigenvalues: [12.5, 3.25],
      density: { grid: [-1, 0, 13], values: [0, 1, 0], runs: 3, steps: 30 },
      diagFisher: {
        estimator: 'mc',
        trace: 16.5,
        traceStdErr: 0.5,
        perLayer: { dense: { value: 10, stdErr: 0.4 }, conv: { value: 6.5, stdErr: 0.3 } },
      },
    };
    expect(describeCurvatureRecord(record).split('\n')).toEqual([
      'Fisher at step 120 (epoch 3.00), 256 train examples',
      '  top eigenvalues: 12.500, 3.2500',
      '  spectral density: 3 SLQ runs × 30 steps on [-1.000, 13.00]',
      '  Σ diag(F) (mc) = 16.5000 ± 0.500',
      `    ${'dense'.padEnd(28)} 10.000 ± 0.400`,
      `    ${'conv'.padEnd(28)} 6.5000 ± 0.300`,
    ]);
  });

  it("reads a training probe (no matrix) as the Hessian's", () => {
    const probe: CurvatureRecord = { kind: 'curvature', step: 5, epoch: 0.5, time: 1, topEigenvalue: 2 };
    expect(describeCurvatureRecord(probe)).toBe('Hessian at step 5 (epoch 0.50)');
  });
});
