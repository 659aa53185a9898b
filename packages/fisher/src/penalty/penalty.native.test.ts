import { initBackend, tf } from '@fisherlab/engine';
import { beforeAll, describe, expect, it } from 'vitest';
import { penaltyByFirstOrder, penaltyGradientErrors } from './fixtures/penalty_checks.js';
import { batchNormConv, reluMaxPoolConv } from './fixtures/tiny_models.js';
import { penaltyValueAndGradient } from './penalty.js';

// The same check on the native backend, where the addon's kernels (oneDNN convolutions, max-pool
// gradient and its gradient, batch norm, the element-wise ops and reductions) run under the
// second-order gradients. Skipped, saying why, where the addon is not built.
const unavailable = await initBackend({ backend: 'native' }).then(
  () => undefined,
  (error: Error) => error.message,
);
beforeAll(async () => {
  if (!unavailable) await initBackend({ backend: 'native' });
});

describe.skipIf(unavailable !== undefined)(
  `penaltyValueAndGradient on the native backend against finite differences of the penalty value${unavailable ? ` (skipped: ${unavailable})` : ''}`,
  () => {
    for (const [name, build] of [
      ['conv with relu + max pool', reluMaxPoolConv],
      ['conv with batch norm (training mode)', batchNormConv],
    ] as const) {
      it(name, () => {
        const c = build();
        const none = new Set<string>();
        const { value, grads } = penaltyValueAndGradient(c.model, c.x, c.labels);
        expect(value).toBeCloseTo(penaltyByFirstOrder(c, none), 5);
        const errors = penaltyGradientErrors(c, grads, none);
        expect(errors.alongGradient).toBeLessThan(1e-3);
        expect(errors.random).toBeLessThan(1e-3);
        tf.dispose(grads);
        c.model.dispose();
      });
    }
  },
);
