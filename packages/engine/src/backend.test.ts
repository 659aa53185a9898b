import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import {
  backendFromEnv,
  checkBackendEnvironment,
  describeBackendFailure,
  describeDevice,
  EnvironmentSettingError,
  initBackend,
} from './backend.js';
import { NativeTierError } from './kernels/native/tier.js';

const missing = (pkg: string) => async () => {
  const error = new Error(`Cannot find package '${pkg}' imported from engine`) as Error & { code: string };
  error.code = 'ERR_MODULE_NOT_FOUND';
  throw error;
};

/** What the native loader throws where the addon was not built. */
const noAddon = async () => {
  throw new Error('the native addon is not built (test)');
};

describe('backend selection', () => {
  it('brings up wasm where the native addon cannot load, and records why the others failed', async () => {
    const report = await initBackend({
      loaders: {
        'tensorflow-gpu': missing('@tensorflow/tfjs-node-gpu'),
        tensorflow: missing('@tensorflow/tfjs-node'),
        native: noAddon,
      },
    });
    expect(report.choice).toBe('wasm');
    expect(report.tfBackend).toBe('wasm');
    expect(report.attempts.map((a) => [a.choice, a.ok])).toEqual([
      ['tensorflow-gpu', false],
      ['tensorflow', false],
      ['native', false],
      ['wasm', true],
    ]);
    expect(report.attempts[2]?.reason).toMatch(
      /native backend failed to initialise: the native addon is not built/,
    );
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
          native: noAddon,
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
        native: tried('native', false),
        wasm: tried('wasm', false),
      },
    });
    expect(order).toEqual(['gpu', 'node', 'native', 'wasm']);
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

  it('refuses a bad thread count in the environment instead of falling back to another backend', async () => {
    for (const [variable, value] of [
      ['FISHERLAB_NATIVE_THREADS', 'abc'],
      ['FISHERLAB_NATIVE_THREADS', '0'],
      ['FISHERLAB_WASM_THREADS', '99'],
      ['FISHERLAB_NATIVE', 'maybe'],
      ['FISHERLAB_BACKEND', 'gpu'],
    ] as const) {
      let caught: unknown;
      try {
        checkBackendEnvironment({ [variable]: value });
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(EnvironmentSettingError);
      expect(caught).toMatchObject({
        variable,
        value,
        message: expect.stringContaining(`${variable}=${value}`),
      });
    }
    expect(() =>
      checkBackendEnvironment({ FISHERLAB_NATIVE_THREADS: '3', FISHERLAB_BACKEND: 'cpu' }),
    ).not.toThrow();
    // initBackend checks before trying any backend: 'auto' would otherwise end on cpu
    const previous = process.env['FISHERLAB_NATIVE_THREADS'];
    process.env['FISHERLAB_NATIVE_THREADS'] = 'abc';
    try {
      await expect(initBackend({ loaders: { native: noAddon } })).rejects.toThrow(EnvironmentSettingError);
    } finally {
      if (previous === undefined) delete process.env['FISHERLAB_NATIVE_THREADS'];
      else process.env['FISHERLAB_NATIVE_THREADS'] = previous;
    }
  });
});

/**
 * A stand-in for tfjs-node-gpu's backend (NodeJSKernelBackend), which cannot install on machines
 * without internet: the same two self-reported fields, no kernels (the test computes nothing on it).
 */
class LibtensorflowLikeBackend extends tf.KernelBackend {
  readonly isGPUPackage = true;
  constructor(readonly isUsingGpuDevice: boolean) {
    super();
  }
  override dispose(): void {}
}

describe('device report', () => {
  it('reports the device the backend says it uses, not the package it came from', () => {
    expect(describeDevice('tensorflow-gpu', new LibtensorflowLikeBackend(true))).toEqual({
      kind: 'gpu',
      description: 'GPU (libtensorflow via @tensorflow/tfjs-node-gpu, which reports a GPU device)',
    });
    const fellBack = describeDevice('tensorflow-gpu', new LibtensorflowLikeBackend(false));
    expect(fellBack.kind).toBe('cpu');
    expect(fellBack.description).toMatch(/tfjs-node-gpu loaded but libtensorflow found no usable GPU/);
    expect(describeDevice('tensorflow', { isGPUPackage: false, isUsingGpuDevice: false })).toEqual({
      kind: 'cpu',
      description: 'CPU (libtensorflow via @tensorflow/tfjs-node)',
    });
    // A backend that does not say is never reported as a GPU.
    expect(describeDevice('tensorflow-gpu', {}).kind).toBe('cpu');
    expect(describeDevice('wasm', tf.backend()).kind).toBe('cpu');
  });

  it('treats tfjs-node-gpu on the CPU as the tensorflow CPU backend, without loading tfjs-node again', async () => {
    const loadGpuPackageOnCpu = async () => {
      tf.registerBackend('tensorflow', () => new LibtensorflowLikeBackend(false));
    };
    try {
      // The 'tensorflow' choice uses the default loader: tfjs-node is not installed here, so it can
      // only succeed by reusing the backend tfjs-node-gpu registered.
      const report = await initBackend({ loaders: { 'tensorflow-gpu': loadGpuPackageOnCpu } });
      expect(report.attempts.map((a) => [a.choice, a.ok])).toEqual([
        ['tensorflow-gpu', false],
        ['tensorflow', true],
      ]);
      expect(report.attempts[0]?.reason).toMatch(/found no usable GPU and runs on the CPU/);
      expect(report.choice).toBe('tensorflow');
      expect(report.device.kind).toBe('cpu');
      expect(report.device.description).toMatch(/tfjs-node-gpu/);
    } finally {
      tf.removeBackend('tensorflow');
      await tf.setBackend('cpu');
    }
  });

  it('refuses an explicit tensorflow-gpu request when libtensorflow runs on the CPU', async () => {
    try {
      await expect(
        initBackend({
          backend: 'tensorflow-gpu',
          loaders: {
            'tensorflow-gpu': async () => {
              tf.registerBackend('tensorflow', () => new LibtensorflowLikeBackend(false));
            },
          },
        }),
      ).rejects.toThrow(/backend 'tensorflow-gpu' was requested but failed: CPU: @tensorflow\/tfjs-node-gpu/);
    } finally {
      tf.removeBackend('tensorflow');
      await tf.setBackend('cpu');
    }
  });
});
