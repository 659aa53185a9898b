import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend.js';
import {
  firstDirectional,
  hessianVector,
  randomTensors,
  type ScalarFn,
} from './fixtures/finite_differences.js';
import { installGradients } from './index.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
  installGradients();
});

const cases: {
  stride: number;
  pad: 'valid' | 'same';
  kernel: number;
  channels: number;
  multiplier: number;
}[] = [
  { stride: 1, pad: 'same', kernel: 3, channels: 3, multiplier: 1 },
  { stride: 2, pad: 'same', kernel: 3, channels: 2, multiplier: 2 },
  { stride: 1, pad: 'valid', kernel: 3, channels: 2, multiplier: 1 },
  { stride: 2, pad: 'valid', kernel: 1, channels: 3, multiplier: 3 },
];

describe('DepthwiseConv2dNativeBackpropFilter/Input gradients (second derivatives through depthwise convs)', () => {
  for (const { stride, pad, kernel, channels, multiplier } of cases) {
    const label = `${kernel}x${kernel} stride ${stride} pad ${pad} multiplier ${multiplier}`;
    const shapes = [
      [2, 7, 6, channels],
      [kernel, kernel, channels, multiplier],
      [2, 7, 6, channels],
      [kernel, kernel, channels, multiplier],
    ];
    // Two stacked depthwise convs: the second one's input gradient (BackpropInput) is on the path of
    // the first one's weight gradient (BackpropFilter), and tanh makes the Hessian non-trivial.
    const [outer] = randomTensors([[3, 3, channels * multiplier, 1]], 7) as tf.Tensor4D[];
    const f: ScalarFn = (input, filter) => {
      const first = tf.depthwiseConv2d(input as tf.Tensor4D, filter as tf.Tensor4D, stride, pad);
      const second = tf.depthwiseConv2d(tf.tanh(first), outer!, 1, 'same');
      return tf.sum(tf.square(tf.sum(tf.tanh(tf.mul(second, 0.5)), [1, 2])));
    };

    it(`${label}: first derivatives match finite differences`, () => {
      const [x, w, vx, vw] = randomTensors(shapes, 43) as tf.Tensor4D[];
      const check = firstDirectional(f, [x!, tf.mul(w!, 0.5)], [vx!, vw!], 1e-2);
      expect(check.relativeError).toBeLessThan(1e-3);
    });

    it(`${label}: mixed Hessian-vector product matches finite differences`, () => {
      const [x, w, vx, vw] = randomTensors(shapes, 41) as tf.Tensor4D[];
      const check = hessianVector(f, [x!, tf.mul(w!, 0.5)], [vx!, vw!], 1e-2);
      expect(check.norm).toBeGreaterThan(1e-2);
      expect(check.relativeError).toBeLessThan(1e-3);
    });
  }
});
