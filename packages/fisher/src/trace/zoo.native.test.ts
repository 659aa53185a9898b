import { describe } from 'vitest';
import { nativeSkipNote, nativeUnavailable } from '../fixtures/native-backend.js';
import { zooThroughTheWalker } from './fixtures/zoo-walker.js';

// The native backend (oneDNN kernels, the per-example filter-norm kernel, native element-wise ops);
// skipped, saying why, where the addon is not built.

describe.skipIf(nativeUnavailable !== undefined)(
  `the model zoo through the walker on the native backend${nativeSkipNote}`,
  zooThroughTheWalker,
);
