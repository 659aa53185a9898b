import { beforeAll, describe } from 'vitest';
import { initBackend } from '../backend.js';
import { nativeAddonForTests, skipNote } from '../kernels/native/fixtures/native-tier.js';
import { everyBlockAgainstFiniteDifferences } from './fixtures/zoo_blocks.js';

/**
 * Every layer type of the model zoo, as a tiny tf.layers block with tanh and with relu, checked for
 * first and second directional derivatives of the mean cross-entropy w.r.t. all trainable weights
 * against central finite differences on the native backend (its oneDNN and element-wise kernels inside the double backprop; see checkBlock for the step choices).
 */
beforeAll(async () => {
  if (nativeAddonForTests) await initBackend({ backend: 'native' });
});

describe.skipIf(!nativeAddonForTests)(
  `first and second derivatives through every zoo layer type match finite differences on the native backend${skipNote}`,
  everyBlockAgainstFiniteDifferences,
);
