import { readFileSync } from 'node:fs';
import { initBackend } from '@fisherlab/engine';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topEigenpairs } from '../curvature/lanczos.js';
import { batchesOf } from './data.js';
import { fisherDiagonal } from './diagonal.js';
import { fisherOperator } from './fisher.js';
import { CROSSCHECK_SEED, type CurvatureCase, curvatureCase } from './fixtures/cases.js';
import { relativeError } from './fixtures/dense.js';
import { GGNOperator } from './ggn.js';
import { HessianOperator } from './hessian.js';

/**
 * The same quantities PyTorch 1.13 computed in float64 (scripts/torch_curvature.py, from the dump of
 * scripts/dump-curvature-cases.ts: the same weights, data, direction and Monte Carlo labels), agreeing
 * to 1e-5 relative. The reference values are embedded, so this runs without torch.
 */
interface TorchCase {
  Hv: number[];
  hessianTop: number[];
  ggnV: number[];
  ggnDiag: number[];
  ggnTrace: number;
  ggnTop: number[];
  mseGgnV: number[];
  mcFisherV: number[];
  mcFisherDiag: number[];
  empiricalFisherV: number[];
}
const torch = JSON.parse(
  readFileSync(new URL('./fixtures/torch-curvature.json', import.meta.url), 'utf8'),
) as { torch: string; cases: Record<string, TorchCase> };
const dump = (key: string) => torch.cases[key]!;

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

describe.each(['mlp', 'simplecnn'] as const)('%s: FisherLab equals PyTorch (float64) to 1e-5', (key) => {
  let c: CurvatureCase;
  let v: Float64Array;
  const data = () => batchesOf({ x: c.x, labels: c.labels }, 4);
  beforeAll(() => {
    c = curvatureCase(key);
    v = Float64Array.from({ length: dump(key).Hv.length }, (_, k) => Math.sin(k + 1));
  });
  afterAll(() => c.model.dispose());

  it('H·v, GGN·v (cross-entropy and mse), Monte Carlo and empirical F·v', async () => {
    const t = dump(key);
    expect(relativeError(await new HessianOperator(c.model, data()).apply(v), t.Hv)).toBeLessThan(1e-5);
    expect(relativeError(await new GGNOperator(c.model, data()).apply(v), t.ggnV)).toBeLessThan(1e-5);
    const mse = batchesOf({ x: c.x, labels: c.targets }, 4);
    expect(
      relativeError(await new GGNOperator(c.model, mse, { loss: 'mse' }).apply(v), t.mseGgnV),
    ).toBeLessThan(1e-5);
    const mc = fisherOperator(c.model, batchesOf({ x: c.x }, 7), { type: 'mc', seed: CROSSCHECK_SEED });
    expect(relativeError(await mc.apply(v), t.mcFisherV)).toBeLessThan(1e-5);
    const empirical = fisherOperator(c.model, data(), { type: 'empirical' });
    expect(relativeError(await empirical.apply(v), t.empiricalFisherV)).toBeLessThan(1e-5);
  });

  it('the exact and Monte Carlo diagonals, and Tr(F)', async () => {
    const t = dump(key);
    const exact = await fisherDiagonal(c.model, data());
    expect(relativeError(exact.values, t.ggnDiag)).toBeLessThan(1e-5);
    expect(Math.abs(exact.trace - t.ggnTrace) / t.ggnTrace).toBeLessThan(1e-5);
    const mc = await fisherDiagonal(c.model, batchesOf({ x: c.x }, 7), { type: 'mc', seed: CROSSCHECK_SEED });
    expect(relativeError(mc.values, t.mcFisherDiag)).toBeLessThan(1e-5);
  });

  it('the top three eigenvalues of H and of the GGN', async () => {
    const t = dump(key);
    const options = { k: 3, maxIterations: 80, tolerance: 1e-7 };
    const hessian = await topEigenpairs(new HessianOperator(c.model, data()), options);
    const ggn = await topEigenpairs(new GGNOperator(c.model, data()), options);
    for (let i = 0; i < 3; i++) {
      expect(Math.abs(hessian.values[i]! - t.hessianTop[i]!) / Math.abs(t.hessianTop[i]!)).toBeLessThan(1e-5);
      expect(Math.abs(ggn.values[i]! - t.ggnTop[i]!) / Math.abs(t.ggnTop[i]!)).toBeLessThan(1e-5);
    }
  });
});
