import { readFileSync } from 'node:fs';
import { initBackend, tf } from '@fisherlab/engine';
import { beforeAll, describe, expect, it } from 'vitest';
import { CROSSCHECK_SPECS, crosscheckInput, perturbBatchNorm } from './fixtures/torch-crosscheck.js';
import { createModel } from './registry.js';

/**
 * Logits PyTorch 1.13 computed for the same weights and input (scripts/torch_crosscheck.py rebuilt
 * the reference definitions with their module names and loaded our weights with strict=True).
 */
const torchLogits = JSON.parse(
  readFileSync(new URL('./fixtures/torch-logits.json', import.meta.url), 'utf8'),
) as {
  torch: string;
  models: Record<string, number[]>;
};

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});

describe('the zoo computes what the PyTorch reference definitions compute', () => {
  for (const [key, spec] of Object.entries(CROSSCHECK_SPECS)) {
    it(`${key}: logits equal PyTorch's (eval mode, BatchNorm statistics non-trivial) to 1e-5`, () => {
      const model = createModel(spec);
      perturbBatchNorm(model, spec.seed!);
      const logits = tf.tidy(() =>
        Array.from((model.predict(crosscheckInput(spec)) as tf.Tensor).dataSync()),
      );
      const expected = torchLogits.models[key]!;
      expect(logits).toHaveLength(expected.length);
      const worst = Math.max(...logits.map((v, i) => Math.abs(v - expected[i]!)));
      expect(worst).toBeLessThan(1e-5);
      model.dispose();
    });
  }
});
