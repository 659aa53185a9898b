// Runs in its own process and never calls initBackend(): an app that brings up tfjs's wasm backend
// itself gets FisherLab's wasm kernels (stock wasm has no Conv2DBackpropFilter, so a conv net's
// gradient fails without them) the first time a FisherLab function runs.
import { tf } from '@fisherlab/engine';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { describe, expect, it } from 'vitest';
import { FisherPenalty } from './index.js';
import { penaltyByFirstOrder } from './penalty/fixtures/penalty_checks.js';
import { reluMaxPoolConv } from './penalty/fixtures/tiny_models.js';

describe('no hidden setup on a wasm backend the app set up itself', () => {
  it('runs a penalized conv step', async () => {
    setWasmPaths(`${new URL('.', import.meta.resolve('@tensorflow/tfjs-backend-wasm')).pathname}`);
    expect(await tf.setBackend('wasm')).toBe(true);
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeUndefined();
    const c = reluMaxPoolConv();
    const step = new FisherPenalty({ kind: 'gradnorm', alpha: 1 }).step(c.model, c.x, c.labels, 0);
    expect(step.penalty).toBeCloseTo(penaltyByFirstOrder(c, new Set()), 5);
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined();
    tf.dispose(step.grads);
  });
});
