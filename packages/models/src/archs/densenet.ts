import type { tf } from '@fisherlab/engine';
import type { LayerBuilder } from '../layers.js';

type Sym = tf.SymbolicTensor;

export interface DenseNetOptions {
  /** Total depth L; (L − 4) must be divisible by 3, and by 6 with bottlenecks. Default 100. */
  depth?: number;
  /** Growth rate k. Default 12. */
  growthRate?: number;
  /** Channel reduction θ at each transition. Default 0.5 (the "C" of DenseNet-BC). */
  compression?: number;
  /** 1x1 bottleneck convs (4k channels) before each 3x3 (the "B" of DenseNet-BC). Default true. */
  bottleneck?: boolean;
  /** Dropout after each conv (0 = none, the default). */
  dropout?: number;
}

/**
 * andreasveit/densenet-pytorch `DenseNet3(depth, num_classes, growth_rate, reduction, bottleneck,
 * dropRate)`: conv3x3 stem with 2k channels; three dense blocks of n layers
 * (n = (L − 4)/3, halved with bottlenecks), each layer BN-ReLU-[conv1x1(4k)-BN-ReLU]-conv3x3(k)
 * concatenated to its input; transitions BN-ReLU-conv1x1(⌊θ·c⌋)-avg-pool 2; then BN, ReLU, average
 * pool, `fc` = Linear(c, numClasses). Its avg_pool2d(8) is global at 32x32; we pool globally.
 */
export function densenet(x: Sym, b: LayerBuilder, numClasses: number, options: DenseNetOptions) {
  const depth = options.depth ?? 100;
  const growth = options.growthRate ?? 12;
  const compression = options.compression ?? 0.5;
  const bottleneck = options.bottleneck ?? true;
  const dropout = options.dropout ?? 0;
  const n = bottleneck ? (depth - 4) / 6 : (depth - 4) / 3;

  let h = b.conv2d(x, { name: 'conv1', filters: 2 * growth, kernelSize: 3, padding: 1, useBias: false });
  for (let block = 1; block <= 3; block++) {
    for (let i = 0; i < n; i++) {
      const name = `block${block}.layer.${i}`;
      let out = b.relu(b.batchNorm(h, `${name}.bn1`));
      if (bottleneck) {
        out = b.conv2d(out, { name: `${name}.conv1`, filters: 4 * growth, kernelSize: 1, useBias: false });
        out = b.relu(b.batchNorm(b.dropout(out, dropout), `${name}.bn2`));
        out = b.conv2d(out, {
          name: `${name}.conv2`,
          filters: growth,
          kernelSize: 3,
          padding: 1,
          useBias: false,
        });
      } else {
        out = b.conv2d(out, {
          name: `${name}.conv1`,
          filters: growth,
          kernelSize: 3,
          padding: 1,
          useBias: false,
        });
      }
      h = b.concat(h, b.dropout(out, dropout));
    }
    if (block < 3) {
      const name = `trans${block}`;
      const channels = Math.floor(h.shape[3]! * compression);
      let out = b.relu(b.batchNorm(h, `${name}.bn1`));
      out = b.conv2d(out, { name: `${name}.conv1`, filters: channels, kernelSize: 1, useBias: false });
      h = b.avgPool(out);
    }
  }
  h = b.relu(b.batchNorm(h, 'bn1'));
  return b.dense(b.globalAvgPool(h), 'fc', numClasses);
}
