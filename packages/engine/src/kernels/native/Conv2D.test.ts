import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { relativeErrors } from '../wasm/fixtures/against-cpu.js';
import { convCases, convInputs } from '../wasm/fixtures/conv-cases.js';
import { NATIVE_TIERS, nativeAddonForTests, runKernelOnTier, skipNote } from './fixtures/native-tier.js';

describe.skipIf(!nativeAddonForTests).each(NATIVE_TIERS)(
  `Conv2D and FusedConv2D on %s${skipNote}`,
  (tier) => {
    it.each(convCases())('match the cpu backend: %s', async (_name, c) => {
      const { x, filter } = convInputs(c);
      const convAttrs = { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', dilations: [1, 1] };
      const inputs = {
        x: { shape: c.inputShape, values: x },
        filter: { shape: c.filterShape, values: filter },
      };
      const native = await runKernelOnTier(tier, tf.Conv2D, inputs, convAttrs);
      const cpu = await runKernelOnTier('cpu', tf.Conv2D, inputs, convAttrs);
      expect(native.shape).toEqual(cpu.shape);
      const error = relativeErrors(native.values, cpu.values);
      expect(error.l2).toBeLessThan(1e-5);
      expect(error.max).toBeLessThan(1e-4);

      // Fused: relu(conv + bias), bias one value per output channel.
      const outChannels = c.filterShape[3];
      const bias = Float32Array.from({ length: outChannels }, (_, i) => 0.5 - i * 0.3);
      const fusedInputs = { ...inputs, bias: { shape: [outChannels], values: bias } };
      const fusedAttrs = { ...convAttrs, activation: 'relu' };
      const fusedNative = await runKernelOnTier(tier, tf.FusedConv2D, fusedInputs, fusedAttrs);
      const fusedCpu = await runKernelOnTier('cpu', tf.FusedConv2D, fusedInputs, fusedAttrs);
      const fusedError = relativeErrors(fusedNative.values, fusedCpu.values);
      expect(fusedError.l2).toBeLessThan(1e-5);
      expect(fusedError.max).toBeLessThan(1e-4);
    });

    it('hands what it does not cover to the wasm kernel: dilation 2, an elu activation', async () => {
      const c = convCases()[40]?.[1];
      if (!c) throw new Error('conv case grid changed');
      const { x, filter } = convInputs(c);
      const inputs = {
        x: { shape: c.inputShape, values: x },
        filter: { shape: c.filterShape, values: filter },
      };
      const dilated = { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', dilations: [2, 2] };
      const elu = {
        strides: c.strides,
        pad: c.pad,
        dataFormat: 'NHWC',
        dilations: [1, 1],
        activation: 'elu',
      };
      for (const [kernel, attrs] of [
        [tf.Conv2D, dilated],
        [tf.FusedConv2D, elu],
      ] as const) {
        const native = await runKernelOnTier(tier, kernel, inputs, attrs);
        const cpu = await runKernelOnTier('cpu', kernel, inputs, attrs);
        expect(relativeErrors(native.values, cpu.values).l2).toBeLessThan(1e-5);
      }
    });
  },
);
