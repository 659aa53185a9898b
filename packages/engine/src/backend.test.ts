import { describe, expect, it } from 'vitest';
import { backendFromEnv, describeBackendFailure, initBackend } from './backend.js';
import { NativeTierError } from './kernels/native/tier.js';

const missing = (pkg: string) => async () => {
  const error = new Error(`Cannot find package '${pkg}' imported from engine`) as Error & { code: string };
  error.code = 'ERR_MODULE_NOT_FOUND';
  throw error;
};

describe('backend selection', () => {
  it('brings up wasm here and records why the native backends failed', async () => {
    const report = await initBackend({
      loaders: {
        'tensorflow-gpu': missing('@tensorflow/tfjs-node-gpu'),
        tensorflow: missing('@tensorflow/tfjs-node'),
      },
    });
    expect(report.choice).toBe('wasm');
    expect(report.tfBackend).toBe('wasm');
    expect(report.attempts.map((a) => [a.choice, a.ok])).toEqual([
      ['tensorflow-gpu', false],
      ['tensorflow', false],
      ['wasm', true],
    ]);
    expect(report.attempts[0]?.reason).toMatch(/tfjs-node-gpu is not installed/);
    // Which CPU tier runs on wasm: the native one, or the reason it does not.
    expect(typeof report.native.active).toBe('boolean');
    if (!report.native.active) expect(report.native.reason).toBeTruthy();
  });

  it('does not fall back to cpu when FISHERLAB_NATIVE=on cannot start the native tier', async () => {
    const nativeFails = async () => {
      throw new NativeTierError('FISHERLAB_NATIVE=on but the native addon is not built');
    };
    await expect(
      initBackend({
        loaders: {
          'tensorflow-gpu': missing('@tensorflow/tfjs-node-gpu'),
          tensorflow: missing('@tensorflow/tfjs-node'),
          wasm: nativeFails,
        },
      }),
    ).rejects.toThrow(/FISHERLAB_NATIVE=on but the native addon is not built/);
  });

  it('picks tfjs-node-gpu first when it loads, with no flag', async () => {
    const order: string[] = [];
    const tried = (name: string, ok: boolean) => async () => {
      order.push(name);
      if (!ok) throw new Error('nope');
    };
    // The gpu loader "succeeds" but tfjs then has no 'tensorflow' backend registered here, so
    // setBackend fails; what we check is that it was tried first and its failure recorded.
    const report = await initBackend({
      loaders: {
        'tensorflow-gpu': tried('gpu', true),
        tensorflow: tried('node', false),
        wasm: tried('wasm', false),
      },
    });
    expect(order).toEqual(['gpu', 'node', 'wasm']);
    expect(report.choice).toBe('cpu');
  });

  it('refuses to fall back when a backend is asked for by name', async () => {
    await expect(
      initBackend({ backend: 'tensorflow', loaders: { tensorflow: missing('@tensorflow/tfjs-node') } }),
    ).rejects.toThrow(
      /backend 'tensorflow' was requested but failed: @tensorflow\/tfjs-node is not installed/,
    );
  });

  it('explains a missing native addon and a bad override', () => {
    expect(
      describeBackendFailure(
        'tensorflow',
        new Error('The specified module could not be found: tfjs_binding.node'),
      ),
    ).toMatch(/native addon is missing/);
    expect(() => backendFromEnv({ FISHERLAB_BACKEND: 'gpu' })).toThrow(
      /FISHERLAB_BACKEND=gpu is not a backend/,
    );
    expect(backendFromEnv({ FISHERLAB_BACKEND: 'wasm' })).toBe('wasm');
  });
});
