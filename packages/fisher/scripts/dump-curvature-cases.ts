/**
 * Writes the curvature cross-check cases (src/operators/fixtures/cases.ts) as JSON for
 * scripts/torch_curvature.py: weights (tfjs layouts), inputs, labels, mse targets, the product
 * direction and the Monte Carlo labels the seeded stream draws.
 *   pnpm exec tsx --conditions=source scripts/dump-curvature-cases.ts <dump.json>
 */
import { writeFileSync } from 'node:fs';
import { initBackend } from '@fisherlab/engine';
import {
  CROSSCHECK_SEED,
  CURVATURE_SPECS,
  curvatureCase,
  directionOfSize,
} from '../src/operators/fixtures/cases.js';
import { drawnLabels, jacobians } from '../src/operators/fixtures/dense.js';

await initBackend({ backend: 'cpu' });
const out: Record<string, unknown> = {};
for (const key of Object.keys(CURVATURE_SPECS) as (keyof typeof CURVATURE_SPECS)[]) {
  const c = curvatureCase(key);
  const { outputs } = jacobians(c.model, c.x);
  const size = c.model.trainableWeights.reduce((s, w) => s + w.shape.reduce((a, b) => a! * b!, 1)!, 0);
  out[key] = {
    spec: CURVATURE_SPECS[key],
    weights: c.model.trainableWeights.map((w) => ({
      name: w.originalName,
      shape: w.shape,
      values: Array.from(w.read().dataSync()),
    })),
    xShape: c.x.shape,
    x: Array.from(c.x.dataSync()),
    labels: Array.from(c.labels.dataSync()),
    targets: Array.from(c.targets.dataSync()),
    v: Array.from(directionOfSize(size)),
    mcLabels: drawnLabels(outputs, CROSSCHECK_SEED),
  };
}
writeFileSync(process.argv[2] ?? 'curvature-dump.json', JSON.stringify(out));
