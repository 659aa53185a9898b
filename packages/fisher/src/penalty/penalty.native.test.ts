import { describe } from 'vitest';
import { nativeSkipNote, nativeUnavailable } from '../fixtures/native-backend.js';
import { penaltyAgainstFiniteDifferences } from './fixtures/penalty_cases.js';

// The same check on the native backend, where the addon's kernels (oneDNN convolutions, max-pool
// gradient and its gradient, batch norm, the element-wise ops and reductions) run under the
// second-order gradients. Skipped, saying why, where the addon is not built.

describe.skipIf(nativeUnavailable !== undefined)(
  `penaltyValueAndGradient on the native backend against finite differences of the penalty value${nativeSkipNote}`,
  penaltyAgainstFiniteDifferences,
);
