// Runs in its own process (vitest isolates files) and never calls initBackend() or
// installGradients(): importing the package must be all the setup the penalty and the Hessian need.
import { tf } from '@fisherlab/engine';
import { describe, expect, it, vi } from 'vitest';
import { checkFiniteDifferenceHvp, FisherPenalty, penaltyValueAndGradient } from './index.js';
import { penaltyByFirstOrder, penaltyGradientErrors } from './penalty/fixtures/penalty_checks.js';
import { reluMaxPoolConv, tanhMlp } from './penalty/fixtures/tiny_models.js';

describe('no hidden setup: importing @fisherlab/fisher is enough', () => {
  it('runs a penalized step and its gradient on tfjs as it comes (cpu backend), matching first-order references', async () => {
    await tf.ready();
    expect(tf.getBackend()).toBe('cpu');
    const c = reluMaxPoolConv();
    const none = new Set<string>();
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const step = new FisherPenalty({ kind: 'gradnorm', alpha: 1 }).step(c.model, c.x, c.labels, 0);
    // Not silent: one line says which backend runs and how to get the fast one.
    expect(warn.mock.calls.map((call) => String(call[0]))).toEqual([
      expect.stringMatching(
        /running on tfjs's 'cpu' backend, set up without initBackend\(\).*await initBackend\(\)/,
      ),
    ]);
    warn.mockRestore();
    expect(step.penalty).toBeCloseTo(penaltyByFirstOrder(c, none), 5);
    const { grads } = penaltyValueAndGradient(c.model, c.x, c.labels);
    const errors = penaltyGradientErrors(c, grads, none);
    expect(errors.alongGradient).toBeLessThan(1e-3);
    tf.dispose([...grads, ...step.grads]);
  });

  it('computes exact Hessian-vector products that agree with finite differences', () => {
    const c = tanhMlp();
    const agreement = checkFiniteDifferenceHvp(c.model, { x: c.x, labels: c.labels }, { probes: 2 });
    expect(agreement.cosine).toBeGreaterThan(0.9999);
    expect(agreement.relativeError).toBeLessThan(1e-2);
  });
});
