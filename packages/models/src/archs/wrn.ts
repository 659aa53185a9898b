import type { tf } from '@fisherlab/engine';
import type { LayerBuilder } from '../layers.js';

type Sym = tf.SymbolicTensor;

export interface WrnOptions {
  /** Total depth; (depth − 4) must be divisible by 6. Default 16. */
  depth?: number;
  /** Widening factor k. Default 4. */
  width?: number;
  /** Dropout rate after the first conv of each block (0 = none, the default). */
  dropout?: number;
}

/**
 * xternalz/WideResNet-pytorch BasicBlock (pre-activation): BN-ReLU-conv3x3(stride)-[dropout]-BN-
 * ReLU-conv3x3, added to the input, or to a 1x1 conv(stride) of the activated input when the
 * width changes.
 */
function basicBlock(
  x: Sym,
  b: LayerBuilder,
  name: string,
  outPlanes: number,
  stride: number,
  dropout: number,
) {
  const equalInOut = x.shape[3] === outPlanes;
  const activated = b.relu(b.batchNorm(x, `${name}.bn1`));
  let out = b.conv2d(activated, {
    name: `${name}.conv1`,
    filters: outPlanes,
    kernelSize: 3,
    stride,
    padding: 1,
    useBias: false,
  });
  out = b.relu(b.batchNorm(b.dropout(out, dropout), `${name}.bn2`));
  out = b.conv2d(out, {
    name: `${name}.conv2`,
    filters: outPlanes,
    kernelSize: 3,
    padding: 1,
    useBias: false,
  });
  const shortcut = equalInOut
    ? x
    : b.conv2d(activated, {
        name: `${name}.convShortcut`,
        filters: outPlanes,
        kernelSize: 1,
        stride,
        useBias: false,
      });
  return b.add(shortcut, out);
}

/**
 * xternalz/WideResNet-pytorch `WideResNet(depth, num_classes, widen_factor, dropRate)`: conv3x3(16)
 * stem; three groups of n = (depth − 4)/6 blocks with 16k, 32k, 64k channels (strides 1, 2, 2);
 * BN, ReLU, average pool, `fc` = Linear(64k, numClasses). Its avg_pool2d(8) is global at 32x32;
 * we pool globally for every input size.
 */
export function wrn(x: Sym, b: LayerBuilder, numClasses: number, options: WrnOptions) {
  const depth = options.depth ?? 16;
  const k = options.width ?? 4;
  const dropout = options.dropout ?? 0;
  const n = (depth - 4) / 6;
  let h = b.conv2d(x, { name: 'conv1', filters: 16, kernelSize: 3, padding: 1, useBias: false });
  const groups: [number, number][] = [
    [16 * k, 1],
    [32 * k, 2],
    [64 * k, 2],
  ];
  groups.forEach(([planes, stride], g) => {
    for (let i = 0; i < n; i++) {
      h = basicBlock(h, b, `block${g + 1}.layer.${i}`, planes, i === 0 ? stride : 1, dropout);
    }
  });
  h = b.relu(b.batchNorm(h, 'bn1'));
  return b.dense(b.globalAvgPool(h), 'fc', numClasses);
}
