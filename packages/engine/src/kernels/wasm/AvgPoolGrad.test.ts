import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { dot, relativeErrors, runKernelOn } from './fixtures/against-cpu.js';
import { poolCases, poolInputs, poolOutputShape } from './fixtures/pool-cases.js';

/** True when some window of the case reaches into padding (where tfjs's stock gradient is wrong). */
function touchesPadding(c: ReturnType<typeof poolCases>[number][1]): boolean {
  const info = tf.backend_util.computePool2DInfo(c.inputShape, c.filterSize, c.strides, 1, c.pad);
  const { top, left, bottom, right } = info.padInfo;
  return top + left + bottom + right > 0;
}

describe('AvgPoolGrad on wasm', () => {
  const cases = poolCases().filter(([, c]) => c.kind !== 'all non-positive');
  it.each(cases)('is the adjoint of AvgPool (cpu and wasm forward): %s', async (_name, c) => {
    const { x, dy } = poolInputs(c);
    const attrs = { filterSize: c.filterSize, strides: c.strides, pad: c.pad };
    const inputs = {
      dy: { shape: poolOutputShape(c), values: dy },
      input: { shape: c.inputShape, values: x },
    };
    const [wasm] = await runKernelOn('wasm', tf.AvgPoolGrad, inputs, attrs);
    expect(wasm?.shape).toEqual(c.inputShape);
    // <avgPool(x), dy> = <x, dx(dy)> for every x: the gradient of a linear op is its adjoint.
    for (const backendName of ['cpu', 'wasm'] as const) {
      const [y] = await runKernelOn(
        backendName,
        tf.AvgPool,
        { x: { shape: c.inputShape, values: x } },
        attrs,
      );
      const lhs = dot(y?.values ?? [], dy);
      const rhs = dot(x, wasm?.values ?? []);
      expect(Math.abs(lhs - rhs)).toBeLessThan(1e-5 * (Math.abs(lhs) + Math.sqrt(dy.length)));
    }
    // Where no window touches padding the stock cpu kernel is right, and must agree.
    if (!touchesPadding(c)) {
      const [cpu] = await runKernelOn('cpu', tf.AvgPoolGrad, inputs, attrs);
      expect(relativeErrors(wasm?.values ?? [], cpu?.values ?? []).max).toBeLessThan(1e-6);
    }
  });
});
