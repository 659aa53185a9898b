import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend.js';
import { nativeAddonForTests, skipNote } from '../kernels/native/fixtures/native-tier.js';
import { blocks, checkBlock } from './fixtures/zoo_blocks.js';

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
  () => {
    for (const name of Object.keys(blocks)) {
      for (const act of ['tanh', 'relu'] as const) {
        it(`${name}, ${act}`, () => {
          const { first, second, norm } = checkBlock(name, act);
          // One scalar difference of float32 losses: roundoff alone is ~1e-5 relative.
          expect(first).toBeLessThan(1e-3);
          expect(norm).toBeGreaterThan(1e-3);
          expect(second).toBeLessThan(1e-3);
        });
      }
    }
  },
);
