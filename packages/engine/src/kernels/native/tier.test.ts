import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { initBackend } from '../../backend.js';
import { conv2DBackpropFilterConfig } from '../wasm/Conv2DBackpropFilter.js';
import { nativeAddonForTests, nativeMissingReason } from './fixtures/native-tier.js';
import { NATIVE_KERNEL_CONFIGS, nativeKernelsRegistered } from './index.js';
import { nativeModeFromEnv, nativeThreadsFromEnv } from './tier.js';

describe('native tier selection', () => {
  it('FISHERLAB_NATIVE=off gives the plain wasm tier, and the report says why', async () => {
    process.env['FISHERLAB_NATIVE'] = 'off';
    try {
      const report = await initBackend({ backend: 'wasm' });
      expect(report.choice).toBe('wasm');
      expect(report.native.active).toBe(false);
      expect(report.native.reason).toMatch(/FISHERLAB_NATIVE=off/);
      expect(nativeKernelsRegistered()).toBe(false);
      expect(tf.getKernel(tf.Conv2DBackpropFilter, 'wasm')?.kernelFunc).toBe(
        conv2DBackpropFilterConfig.kernelFunc,
      );
    } finally {
      delete process.env['FISHERLAB_NATIVE'];
    }
  });

  it('auto runs the native kernels when the addon loads, and says why not when it does not', async () => {
    const report = await initBackend({ backend: 'wasm', native: 'auto' });
    if (nativeAddonForTests) {
      expect(report.native).toMatchObject({ active: true, library: expect.stringMatching(/oneDNN/) });
      expect(report.native.threads).toBeGreaterThanOrEqual(1);
      for (const config of NATIVE_KERNEL_CONFIGS) {
        expect(tf.getKernel(config.kernelName, 'wasm')?.kernelFunc).toBe(config.kernelFunc);
      }
    } else {
      expect(report.native).toEqual({ active: false, reason: nativeMissingReason });
      expect(report.native.reason).toMatch(/apt-get install -y g\+\+ libdnnl-dev/);
    }
    const off = await initBackend({ backend: 'wasm', native: 'off' });
    expect(off.native.active).toBe(false);
    expect(tf.getKernel(tf.Conv2DBackpropFilter, 'wasm')?.kernelFunc).toBe(
      conv2DBackpropFilterConfig.kernelFunc,
    );
  });

  it('reports the tier as inactive on the cpu backend', async () => {
    const report = await initBackend({ backend: 'cpu' });
    expect(report.native).toEqual({
      active: false,
      reason: 'the native kernels run on the native backend or on top of wasm; the cpu backend is active',
    });
  });

  it('validates FISHERLAB_NATIVE and FISHERLAB_NATIVE_THREADS, naming the fix', () => {
    expect(nativeModeFromEnv({})).toBe('auto');
    expect(nativeModeFromEnv({ FISHERLAB_NATIVE: 'on' })).toBe('on');
    expect(() => nativeModeFromEnv({ FISHERLAB_NATIVE: 'yes' })).toThrow(
      /FISHERLAB_NATIVE=yes is not a mode; use auto, on or off/,
    );
    expect(nativeThreadsFromEnv({ FISHERLAB_NATIVE_THREADS: '3' })).toBe(3);
    expect(nativeThreadsFromEnv({})).toBeGreaterThanOrEqual(1);
    expect(nativeThreadsFromEnv({})).toBeLessThanOrEqual(2);
    expect(() => nativeThreadsFromEnv({ FISHERLAB_NATIVE_THREADS: '0' })).toThrow(/not a positive integer/);
  });
});
